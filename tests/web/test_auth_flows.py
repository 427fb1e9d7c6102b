"""Signing up, in and out through the console, as a user does it."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.web.conftest import (
    PHONE,
    Rest,
    assert_accessible,
    emailed_link,
    screenshot,
    sign_in,
    sign_up,
)


def email() -> str:
    return f"ada-{uuid.uuid4().hex[:8]}@example.com"


def test_sign_up_lands_on_the_new_accounts_dashboard(open_page):
    page = open_page()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin$"))
    screenshot(page, "sign-in")
    assert_accessible(page)
    page.get_by_role("link", name="Create an account").click()
    screenshot(page, "sign-up")
    assert_accessible(page)

    account_id = sign_up(page, name="Ada Lovelace", email=email(), organisation="Analytical")
    expect(page.get_by_role("heading", name="Analytical")).to_be_visible()
    expect(page.get_by_label("Open conversations: 0")).to_be_visible()
    expect(page.get_by_role("combobox", name="Account")).to_have_value("Analytical")
    screenshot(page, "dashboard")
    assert_accessible(page)
    assert len(account_id) == 36


def test_a_wrong_password_says_so_and_signing_in_again_works(open_page):
    page = open_page()
    address = email()
    sign_up(page, name="Grace Hopper", email=address, organisation="Compilers")
    page.get_by_role("button", name="Your menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/signin$"))

    sign_in(page, address, "not the password")
    expect(page.get_by_role("alert")).to_contain_text("password")
    sign_in(page, address)
    expect(page.get_by_role("heading", name="Compilers")).to_be_visible()


def test_sign_up_errors_are_shown_next_to_their_fields(open_page):
    page = open_page()
    page.goto("/signup")
    page.get_by_label("Your name").fill("Short Password")
    page.get_by_label("Work email").fill("not-an-email")
    page.get_by_role("textbox", name="Password", exact=True).fill("short")
    page.get_by_label("Organisation").fill("Somewhere")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_be_visible()
    # The API's own messages, each tied to its field (read out with it).
    expect(page.get_by_label("Work email")).to_have_accessible_description(
        re.compile("Not a valid email address")
    )
    expect(page.get_by_role("textbox", name="Password", exact=True)).to_have_accessible_description(
        re.compile("Length must be between 8 and 256")
    )
    expect(page).to_have_url(re.compile(r"/signup$"))


def test_the_shell_folds_its_sidebar_on_a_phone(open_page):
    page = open_page(PHONE)
    sign_up(page, name="Mary Somerville", email=email(), organisation="Mechanisms")
    sections = page.get_by_role("navigation", name="Sections")
    expect(sections.get_by_role("link", name="Dashboard")).not_to_be_in_viewport()
    page.get_by_role("button", name="Show sections").click()
    expect(sections.get_by_role("link", name="Dashboard")).to_be_in_viewport()
    screenshot(page, "dashboard-phone")
    assert_accessible(page)


def test_the_emailed_links_verify_the_address_and_reset_the_password(open_page, mailbox):
    page = open_page()
    address = email()
    sign_up(page, name="Emmy Noether", email=address, organisation="Invariants")
    banner = page.get_by_role("region", name="Email verification")
    banner.get_by_label("Code from the email").fill("WRONG-0000")
    banner.get_by_role("button", name="Verify").click()
    expect(banner.get_by_label("Code from the email")).to_have_accessible_description(
        re.compile("not valid")
    )
    page.goto(emailed_link(mailbox, address, "/verify-email"))
    expect(page.get_by_role("status")).to_contain_text("verified")
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_role("heading", name="Invariants")).to_be_visible()
    expect(banner).to_have_count(0)

    stranger = open_page()  # another browser: nobody signed in
    stranger.goto("/signin")
    stranger.get_by_role("link", name="Forgot your password?").click()
    stranger.get_by_label("Email").fill(address)
    stranger.get_by_role("button", name="Send the link").click()
    expect(stranger.get_by_role("status")).to_contain_text(address)
    stranger.goto(emailed_link(mailbox, address, "/reset-password"))
    screenshot(stranger, "reset-password")
    assert_accessible(stranger)
    stranger.get_by_role("textbox", name="New password").fill("a brand new secret")
    stranger.get_by_role("button", name="Change password").click()
    expect(stranger.get_by_role("status")).to_contain_text("password is changed")
    stranger.get_by_role("link", name="Sign in").click()

    sign_in(stranger, address)  # the old password no longer works
    expect(stranger.get_by_role("alert")).to_be_visible()
    sign_in(stranger, address, "a brand new secret")
    expect(stranger.get_by_role("heading", name="Invariants")).to_be_visible()


def test_a_member_of_two_accounts_switches_between_them(open_page, mailbox, service):
    page = open_page()
    address = email()
    own = sign_up(page, name="Ada Byron", email=address, organisation="Engines Ltd")
    other_owner, other = email(), open_page()
    elsewhere = sign_up(other, name="Charles", email=other_owner, organisation="Looms Co")
    other.goto(emailed_link(mailbox, other_owner, "/verify-email"))  # inviting needs it
    expect(other.get_by_role("status")).to_contain_text("verified")
    invite = {"email": address, "role": "agent"}
    Rest(service.url, other_owner).account("POST", "/invitations", invite)

    page.goto(emailed_link(mailbox, address, "/accept-invitation"))
    expect(page.get_by_text(f"Accept the invitation as {address}")).to_be_visible()
    page.get_by_role("button", name="Accept invitation").click()
    expect(page).to_have_url(re.compile(rf"/a/{elsewhere}/dashboard$"))
    expect(page.get_by_role("heading", name="Looms Co")).to_be_visible()

    switcher = page.get_by_role("combobox", name="Account")
    switcher.click()
    page.get_by_role("option", name="Engines Ltd").click()
    expect(page).to_have_url(re.compile(rf"/a/{own}/dashboard$"))
    expect(page.get_by_role("heading", name="Engines Ltd")).to_be_visible()
    # As an agent there, and owner here: the sections follow the role in each account.
    page.goto(f"/a/{elsewhere}/dashboard")
    expect(page.get_by_role("heading", name="Looms Co")).to_be_visible()


def test_the_dashboard_follows_new_conversations_live(open_page, service):
    page = open_page()
    address = email()
    sign_up(page, name="Katherine Johnson", email=address, organisation="Trajectories")
    expect(page.get_by_label("Open conversations: 0")).to_be_visible()
    expect(page.get_by_text("Live", exact=True)).to_be_visible()  # the socket is connected

    rest = Rest(service.url, address)
    channel = rest.account("POST", "/channels", {"type": "email", "name": "Support"})
    contact = rest.account("POST", "/contacts", {"name": "Dorothy", "email": "dv@example.com"})
    body = {"channel_id": channel["id"], "contact_id": contact["id"]}
    rest.account("POST", "/conversations", body)

    # No reload: the push about the new conversation refreshes the figures.
    expect(page.get_by_label("Open conversations: 1")).to_be_visible()
    expect(page.get_by_label("Unassigned: 1")).to_be_visible()
    expect(page.get_by_label("Contacts: 1")).to_be_visible()
