"""The settings screens as their users meet them: an owner building a team from the
members page (the invitation travels by email to a second browser), and a user securing
their profile (password, two-step verification scanned from the QR's secret, sessions)."""

from __future__ import annotations

import re
import time
import uuid

import pyotp
from playwright.sync_api import Page, expect

from tests.web.conftest import (
    PASSWORD,
    PHONE,
    Rest,
    assert_accessible,
    emailed_link,
    screenshot,
    sign_in,
    sign_up,
)


def email(who: str) -> str:
    return f"{who}-{uuid.uuid4().hex[:8]}@example.com"


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Your menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/signin$"))


def test_an_owner_invites_an_agent_who_joins_from_the_email(open_page, mailbox, service):
    owner = open_page()
    owner_email = email("owner")
    account_id = sign_up(owner, name="Ada Owner", email=owner_email, organisation="Engines")
    owner.goto(emailed_link(mailbox, owner_email, "/verify-email"))  # inviting needs it
    expect(owner.get_by_role("status")).to_contain_text("verified")
    owner.goto("/")  # a fresh start: the console knows the address is verified

    owner.get_by_role("navigation", name="Sections").get_by_role("link", name="Settings").click()
    expect(owner.get_by_role("heading", name="Settings")).to_be_visible()
    owner.mouse.move(640, 790)  # off the sidebar link just clicked (its hover shade is the shell's)
    assert_accessible(owner)
    owner.get_by_role("link", name=re.compile("^Team members")).click()
    expect(owner).to_have_url(re.compile(rf"/a/{account_id}/settings/members$"))
    members = owner.get_by_role("region", name=re.compile(r"^Members"))
    expect(members.get_by_role("row", name=re.compile("Ada Owner"))).to_contain_text("Owner")
    screenshot(owner, "settings-members")
    assert_accessible(owner)

    agent_email = email("agent")
    owner.get_by_role("textbox", name="Email", exact=True).fill(agent_email)
    expect(owner.get_by_role("combobox", name=re.compile("^Role"))).to_have_value("Agent")
    owner.get_by_role("button", name="Send invitation").click()
    invitations = owner.get_by_role("region", name=re.compile(r"^Invitations"))
    expect(invitations.get_by_role("row", name=re.compile(re.escape(agent_email)))).to_contain_text(
        "Pending"
    )
    # Inviting the same address again: the API's refusal, next to the field it concerns.
    owner.get_by_role("textbox", name="Email", exact=True).fill(agent_email)
    owner.get_by_role("button", name="Send invitation").click()
    expect(owner.get_by_role("textbox", name="Email", exact=True)).to_have_accessible_description(
        re.compile("already invited")
    )

    # Sending again is refused so soon (said in its row); withdrawn (once confirmed), an
    # invitation leaves the list.
    stray = email("stray")
    owner.get_by_role("textbox", name="Email", exact=True).fill(stray)
    owner.get_by_role("button", name="Send invitation").click()
    owner.get_by_role("button", name=f"Resend the invitation to {stray}").click()
    expect(invitations.get_by_role("row", name=re.compile(re.escape(stray)))).to_contain_text(
        "just sent; try again"
    )
    owner.get_by_role("button", name=f"Revoke the invitation to {stray}").click()
    owner.get_by_role("dialog", name="Revoke the invitation?").get_by_role(
        "button", name="Revoke invitation"
    ).click()
    expect(invitations.get_by_text(stray)).to_have_count(0)

    # The agent, in a browser of their own, follows the emailed link.
    agent = open_page()
    agent.goto(emailed_link(mailbox, agent_email, "/accept-invitation"))
    expect(agent.get_by_role("heading", name="Join your team")).to_be_visible()
    screenshot(agent, "accept-invitation")
    assert_accessible(agent)
    agent.get_by_label("Your name").fill("Alan Agent")
    agent.get_by_role("textbox", name="Password", exact=True).fill(PASSWORD)
    agent.get_by_role("button", name="Accept invitation").click()
    expect(agent).to_have_url(re.compile(rf"/a/{account_id}/dashboard$"))
    expect(agent.get_by_role("heading", name="Engines")).to_be_visible()
    sections = agent.get_by_role("navigation", name="Sections")
    for name in ("Dashboard", "Inbox", "Contacts", "Settings"):
        expect(sections.get_by_role("link", name=name)).to_be_visible()
    # An agent reads the team but cannot change it.
    agent.goto(f"/a/{account_id}/settings/members")
    agent_view = agent.get_by_role("region", name=re.compile(r"^Members"))
    expect(agent_view.get_by_role("row", name=re.compile("Alan Agent"))).to_contain_text("Agent")
    expect(agent.get_by_role("button", name="Send invitation")).to_have_count(0)
    expect(agent.get_by_role("button", name=re.compile("^Remove"))).to_have_count(0)

    sign_out(agent)
    sign_in(agent, agent_email)
    expect(agent).to_have_url(re.compile(rf"/a/{account_id}/dashboard$"))
    expect(agent.get_by_role("heading", name="Engines")).to_be_visible()

    # The owner sees the new member (the invitation gone), makes them admin, then removes them.
    owner.reload()
    expect(invitations).to_have_count(0)
    role = owner.get_by_role("combobox", name="Role of Alan Agent")
    expect(role).to_have_value("Agent")
    role.click()
    owner.get_by_role("option", name="Admin").click()
    expect(owner.get_by_text("Alan Agent is now Admin.")).to_be_visible()
    admin = Rest(service.url, agent_email)
    assert admin.call("GET", "/v1/me/context")["accounts"][0]["role"] == "admin"

    owner.set_viewport_size(PHONE)  # the same page on a phone
    nav = owner.get_by_role("navigation", name="Sections")
    expect(nav.get_by_role("link", name="Dashboard")).not_to_be_in_viewport()
    screenshot(owner, "settings-members-phone")
    assert_accessible(owner)
    owner.get_by_role("button", name="Remove Alan Agent").click()
    dialog = owner.get_by_role("dialog", name="Remove Alan Agent?")
    expect(dialog).to_contain_text(agent_email)
    dialog.get_by_role("button", name="Remove member").click()
    expect(members.get_by_role("row", name=re.compile("Alan Agent"))).to_have_count(0)
    assert admin.call("GET", "/v1/me/context")["accounts"] == []


def test_a_user_secures_their_profile_with_two_step_verification(open_page, service):
    page = open_page(PHONE)
    address = email("grace")
    account_id = sign_up(page, name="Grace Hopper", email=address, organisation="Compilers")
    elsewhere = Rest(service.url, address)  # a second session, on another "device"

    page.get_by_role("button", name="Your menu").click()
    page.get_by_role("menuitem", name="Profile and security").click()
    expect(page).to_have_url(re.compile(rf"/a/{account_id}/settings/profile$"))
    sessions = page.get_by_role("list", name="Sessions")
    expect(sessions.get_by_role("listitem")).to_have_count(2)
    expect(sessions.get_by_text("This device")).to_be_visible()
    screenshot(page, "settings-profile")
    assert_accessible(page)

    page.get_by_role("textbox", name="Name").fill("Grace B. Hopper")
    page.get_by_role("button", name="Save name").click()
    expect(page.get_by_text("Your name is saved.")).to_be_visible()
    assert elsewhere.call("GET", "/v1/me/context")["user"]["name"] == "Grace B. Hopper"

    page.get_by_role("button", name="Sign out all other sessions").click()
    expect(sessions.get_by_role("listitem")).to_have_count(1)

    # A wrong current password is refused next to its field; the right one changes it.
    current = page.get_by_role("textbox", name="Current password")
    current.fill("not my password")
    page.get_by_role("textbox", name="New password").fill("an even better secret")
    page.get_by_role("button", name="Change password").click()
    expect(current).to_have_accessible_description(re.compile("does not match"))
    current.fill(PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password is changed")).to_be_visible()

    # Two-step verification: the QR and its setup key, confirmed with the app's code.
    page.get_by_role("button", name="Set up two-step verification").click()
    qr = page.get_by_role("img", name=re.compile("QR code"))
    expect(qr).to_be_visible()
    drawn = qr.evaluate(
        """img => img.complete ? img.naturalWidth : new Promise((done) => {
            img.onload = () => done(img.naturalWidth);
            img.onerror = () => done(0);
        })"""
    )
    assert drawn > 0, "the QR code image does not load"
    secret = page.get_by_role("textbox", name="Setup key").input_value().replace(" ", "")
    totp = pyotp.TOTP(secret)
    screenshot(page, "settings-mfa")
    assert_accessible(page)
    page.get_by_label("6-digit code").fill("000000" if totp.now() != "000000" else "111111")
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("alert", name="Not done")).to_contain_text("wrong")
    used = totp.timecode(time.time())
    page.get_by_label("6-digit code").fill(totp.now())
    page.get_by_role("button", name="Turn on").click()
    codes = page.get_by_role("list", name="Recovery codes").get_by_role("listitem")
    expect(codes).to_have_count(10)
    recovery_code = codes.first.inner_text()
    page.get_by_role("button", name="I have saved my recovery codes").click()
    expect(page.get_by_text("10 recovery codes left.")).to_be_visible()

    sign_out(page)
    sign_in(page, address, "an even better secret")
    expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
    while totp.timecode(time.time()) <= used:  # a code's time step is spent once
        time.sleep(0.5)
    page.get_by_label("6-digit code").fill(totp.now())
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(rf"/a/{account_id}/dashboard$"))
    expect(page.get_by_role("heading", name="Compilers")).to_be_visible()

    # Turning it off takes a second factor: here, one of the recovery codes.
    page.goto(f"/a/{account_id}/settings/profile")
    page.get_by_role("textbox", name="Authenticator code or recovery code").fill(recovery_code)
    page.get_by_role("button", name="Turn off").click()
    expect(page.get_by_role("button", name="Set up two-step verification")).to_be_visible()


def test_an_owner_sets_up_the_account_roles_channels_replies_and_slas(open_page, service):
    page = open_page()
    address = email("mary")
    account_id = sign_up(page, name="Mary Owner", email=address, organisation="Looms")
    rest = Rest(service.url, address)
    settings = f"/a/{account_id}/settings"

    # Account: name, time zone and business hours; an overlap is refused for its day.
    page.goto(f"{settings}/account")
    page.get_by_role("textbox", name="Account name").fill("Looms Ltd")
    page.get_by_role("combobox", name="Time zone").fill("Europe/Par")
    page.get_by_role("option", name="Europe/Paris").click()
    page.get_by_role("checkbox", name="Open on Monday").check()
    expect(page.get_by_label("Monday opens")).to_have_value("09:00")
    page.get_by_role("button", name="Add hours on Monday").click()
    page.get_by_label("Monday opens (2)").fill("16:00")
    page.get_by_role("button", name="Save settings").click()
    monday = page.get_by_role("group", name="Monday")
    expect(monday.get_by_role("alert")).to_contain_text("overlaps")
    page.get_by_label("Monday opens (2)").fill("18:00")
    page.get_by_label("Monday closes (2)").fill("20:00")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Account settings saved.")).to_be_visible()
    expect(page.get_by_role("combobox", name="Account")).to_have_value("Looms Ltd")
    screenshot(page, "settings-account")
    assert_accessible(page)
    saved = rest.account("GET", "/settings")
    assert saved["timezone"] == "Europe/Paris"
    assert saved["business_hours"] == {
        "mon": [{"start": "09:00", "end": "17:00"}, {"start": "18:00", "end": "20:00"}]
    }

    # A custom role from the permission catalogue.
    page.goto(f"{settings}/roles")
    page.get_by_role("button", name="New role").click()
    dialog = page.get_by_role("dialog", name="New role")
    dialog.get_by_role("textbox", name="Name").fill("Support lead")
    dialog.get_by_role("checkbox", name="All contacts permissions").check()
    dialog.get_by_role("checkbox", name="conversations:read", exact=True).check()
    screenshot(page, "settings-role")
    assert_accessible(page)
    dialog.get_by_role("button", name="Save role").click()
    expect(page.get_by_role("listitem", name="Support lead")).to_contain_text("4 permissions")
    (role,) = [r for r in rest.account("GET", "/roles")["items"] if not r["built_in"]]
    assert sorted(role["permissions"]) == [
        "contacts:delete",
        "contacts:read",
        "contacts:write",
        "conversations:read",
    ]

    # A channel with a setting and its inbox's agent.
    page.goto(f"{settings}/channels")
    page.get_by_role("button", name="New channel").click()
    dialog = page.get_by_role("dialog", name="New channel")
    dialog.get_by_role("textbox", name="Name").fill("Support email")
    dialog.get_by_role("button", name="Add a setting").click()
    dialog.get_by_label("Setting 1 key").fill("from_address")
    dialog.get_by_label("Setting 1 value").fill("help@example.com")
    dialog.get_by_role("button", name="Save channel").click()
    expect(page.get_by_role("row", name=re.compile("Support email"))).to_contain_text("Email")
    page.get_by_role("button", name="Inbox members of Support email").click()
    dialog = page.get_by_role("dialog", name="Inbox members of Support email")
    dialog.get_by_role("combobox", name="Agents in this inbox").click()
    page.get_by_role("option", name=re.compile("Mary Owner")).click()
    (channel,) = rest.account("GET", "/channels")["items"]
    assert channel["config"] == {"from_address": "help@example.com"}
    expect(dialog.get_by_text(re.compile("Mary Owner"))).to_be_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    members = rest.account("GET", f"/channels/{channel['id']}/members")["user_ids"]
    assert len(members) == 1

    # A canned response: the API's refusal of a short code shows next to it.
    page.goto(f"{settings}/canned-responses")
    page.get_by_role("button", name="New canned response").click()
    dialog = page.get_by_role("dialog", name="New canned response")
    dialog.get_by_role("textbox", name="Short code").fill("thank you")
    dialog.get_by_role("textbox", name="Title").fill("Thanks")
    dialog.get_by_role("textbox", name="Reply").fill("Thank you, {{ contact.name }}!")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("textbox", name="Short code")).to_have_accessible_description(
        re.compile("letters, digits")
    )
    dialog.get_by_role("textbox", name="Short code").fill("thanks")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("row", name="thanks")).to_contain_text("Thanks")
    expect(page.get_by_role("dialog")).to_have_count(0)
    screenshot(page, "settings-canned-responses")

    # A template, previewed with sample values.
    page.goto(f"{settings}/templates")
    page.get_by_role("button", name="New template").click()
    dialog = page.get_by_role("dialog", name="New template")
    dialog.get_by_role("textbox", name="Name").fill("Welcome")
    dialog.get_by_role("textbox", name="Message").fill("Hello {{ contact.name }}")
    dialog.get_by_role("button", name="Save template").click()
    page.get_by_role("button", name="Preview Welcome").click()
    expect(page.get_by_role("dialog", name="Preview of Welcome")).to_contain_text("Hello Jane Doe")
    page.keyboard.press("Escape")

    # An SLA policy: targets per priority, a warning, calendar time.
    page.goto(f"{settings}/sla-policies")
    page.get_by_role("button", name="New SLA policy").click()
    dialog = page.get_by_role("dialog", name="New SLA policy")
    dialog.get_by_role("textbox", name="Name").fill("Standard")
    dialog.get_by_role("radio", name=re.compile("Calendar time")).check()
    dialog.get_by_role("textbox", name="First response (urgent)").fill("15")
    dialog.get_by_role("textbox", name="Resolution (urgent)").fill("240")
    dialog.get_by_text("% of the time used").click()
    warn = dialog.get_by_role("textbox", name="Warn when this % of the time is used")
    warn.fill("80")
    screenshot(page, "settings-sla-policy")
    assert_accessible(page)
    warn.fill("150")
    dialog.get_by_role("button", name="Save policy").click()
    expect(warn).to_have_accessible_description(re.compile("less than or equal to 99"))
    warn.fill("80")
    dialog.get_by_role("button", name="Save policy").click()
    expect(page.get_by_role("listitem", name="Standard")).to_contain_text(
        "Urgent: first response 15 min, resolution 4 h"
    )
    (policy,) = rest.account("GET", "/sla/policies")["items"]
    assert (policy["hours"], policy["warning"]) == ("calendar", {"percent": 80})
