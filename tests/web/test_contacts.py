"""The contacts screens as a user meets them: a contact created through the form with a
custom field, the API's refusals shown next to their fields, search, sorting, filters and
a segment kept in the URL, the detail's tags, edit and activity, live updates and the
list on a phone."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from tests.web.conftest import PHONE, Rest, assert_accessible, screenshot, sign_up


def email() -> str:
    return f"owner-{uuid.uuid4().hex[:8]}@example.com"


def box(page: Page, label: str):
    """The text box labelled ``label`` (a required field's label ends with " *")."""
    return page.get_by_role("textbox", name=re.compile(rf"^{re.escape(label)}( \*)?$"))


def table_names(page: Page):
    """The links of the contacts' names in the table, top to bottom."""
    return page.get_by_role("table").get_by_role("link")


def test_contacts_from_the_form_to_the_activity_log(open_page, service):
    page = open_page()
    owner = email()
    account_id = sign_up(page, name="Ada Owner", email=owner, organisation="Engines")
    rest = Rest(service.url, owner)
    rest.account(
        "POST",
        "/custom-fields",
        {
            "entity": "contact",
            "key": "plan",
            "label": "Plan",
            "type": "single_select",
            "options": ["free", "pro"],
            "required": True,
        },
    )
    page.goto(f"/a/{account_id}/contacts")
    expect(page.get_by_text("No contacts yet.")).to_be_visible()

    # Created through the form, the custom field included.
    page.get_by_role("link", name="New contact").click()
    expect(page).to_have_url(re.compile(r"/contacts/new$"))
    box(page, "Name").fill("Ada Lovelace")
    box(page, "Email").fill("ada@example.com")
    box(page, "Phone").fill("+1 (415) 555-0123")
    box(page, "Company").fill("Engines Ltd")
    page.get_by_role("combobox", name="Plan").click()
    page.get_by_role("option", name="pro", exact=True).click()
    screenshot(page, "contacts-form")
    assert_accessible(page)
    page.get_by_role("button", name="Create contact").click()
    expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    ada_url = page.url
    ada_id = ada_url.rsplit("/", 1)[1]
    details = page.get_by_role("region", name="Details")
    expect(details).to_contain_text("+14155550123")
    expect(details).to_contain_text("pro")

    # The same email again: the 409 next to the email field, with the duplicate's link.
    page.goto(f"/a/{account_id}/contacts/new")
    box(page, "Name").fill("Ada Again")
    box(page, "Email").fill("ADA@example.com")
    page.get_by_role("combobox", name="Plan").click()
    page.get_by_role("option", name="free", exact=True).click()
    page.get_by_role("button", name="Create contact").click()
    expect(box(page, "Email")).to_have_accessible_description(
        re.compile("already used by another contact")
    )
    expect(page.get_by_role("alert", name="Not saved")).to_contain_text(
        "Another contact already has this email"
    )
    expect(page.get_by_role("link", name="Open the existing contact")).to_have_attribute(
        "href", f"/a/{account_id}/contacts/{ada_id}"
    )
    # An unreadable phone: its message next to the phone field (and the email's is gone).
    box(page, "Email").fill("charles@example.com")
    box(page, "Phone").fill("12")
    page.get_by_role("button", name="Create contact").click()
    expect(box(page, "Phone")).to_have_accessible_description(
        re.compile("not a (valid )?phone number")
    )
    expect(box(page, "Email")).not_to_have_accessible_description(re.compile("already"))
    expect(page).to_have_url(re.compile(r"/contacts/new$"))

    for name, address in (
        ("Charles Babbage", "charles@difference.example"),
        ("Betty Holberton", None),
    ):
        rest.account(
            "POST",
            "/contacts",
            {"name": name, "email": address, "custom_fields": {"plan": "free"}},
        )

    # Search (the API's q) by part of a name, kept in the URL through a reload.
    page.goto(f"/a/{account_id}/contacts")
    expect(page.get_by_role("link", name="Charles Babbage")).to_be_visible()
    search = page.get_by_role("searchbox", name="Search")
    search.fill("babb")
    expect(page).to_have_url(re.compile(r"[?&]q=babb"))
    expect(page.get_by_role("link", name="Ada Lovelace")).to_have_count(0)
    page.reload()
    expect(search).to_have_value("babb")
    expect(page.get_by_role("link", name="Charles Babbage")).to_be_visible()
    expect(page.get_by_text("1 contact", exact=True)).to_be_visible()
    # Phone digits written as a person would (stored as +14155550123).
    search.fill("415 555-01")
    search.press("Enter")
    expect(page.get_by_role("link", name="Ada Lovelace")).to_be_visible()
    expect(page.get_by_role("link", name="Charles Babbage")).to_have_count(0)
    page.go_back()
    expect(search).to_have_value("babb")
    expect(page.get_by_role("link", name="Charles Babbage")).to_be_visible()
    # A fragment of an email, without its "@".
    search.fill("difference.exa")
    search.press("Enter")
    expect(page.get_by_role("link", name="Charles Babbage")).to_be_visible()
    expect(page.get_by_role("link", name="Ada Lovelace")).to_have_count(0)
    expect(page.get_by_text("1 contact", exact=True)).to_be_visible()
    search.fill("")
    search.press("Enter")
    expect(page.get_by_text("3 contacts", exact=True)).to_be_visible()

    # Sorting by the name column, both ways, told by aria-sort.
    page.get_by_role("button", name="Name", exact=True).click()
    header = page.get_by_role("columnheader", name="Name")
    expect(header).to_have_attribute("aria-sort", "ascending")
    expect(page).to_have_url(re.compile(r"sort=name"))
    expect(table_names(page)).to_have_text(["Ada Lovelace", "Betty Holberton", "Charles Babbage"])
    page.get_by_role("button", name="Name", exact=True).click()
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(table_names(page)).to_have_text(["Charles Babbage", "Betty Holberton", "Ada Lovelace"])

    # A filter on the custom field, from the filter editor.
    page.get_by_role("button", name="Filters", exact=True).click()
    page.get_by_role("combobox", name="Filter 1: field").click()
    page.get_by_role("option", name="Plan").click()
    page.get_by_role("combobox", name="Filter 1: value").click()
    page.get_by_role("option", name="pro", exact=True).click()
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"filter=custom_fields\.plan%3Aeq%3Apro"))
    expect(page.get_by_text("1 contact", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Ada Lovelace")).to_be_visible()
    screenshot(page, "contacts-list")
    assert_accessible(page)

    # The detail: the contact's conversations, tags added and removed, an edit seen in
    # the activity.
    channel = rest.account("POST", "/channels", {"type": "email", "name": "Support"})
    conversation = rest.account(
        "POST",
        "/conversations",
        {"channel_id": channel["id"], "contact_id": ada_id, "subject": "Engine trouble"},
    )
    page.get_by_role("link", name="Ada Lovelace").click()
    expect(page).to_have_url(ada_url)
    conversations = page.get_by_role("region", name="Conversations")
    expect(conversations.get_by_role("link", name="Engine trouble")).to_have_attribute(
        "href", f"/a/{account_id}/inbox/{conversation['id']}"
    )
    box(page, "New tag").fill("vip")
    page.get_by_role("button", name="Add tag").click()
    tags = page.get_by_role("list", name="Tags")
    expect(tags).to_contain_text("vip")
    box(page, "New tag").fill("early")
    box(page, "New tag").press("Enter")
    expect(tags).to_contain_text("early")
    page.get_by_role("button", name="Remove tag early").click()
    expect(tags).not_to_contain_text("early")
    activity = page.get_by_role("list", name="Activity")
    # Created, then tagged vip, tagged early, untagged early: each in the audit log.
    expect(activity.get_by_role("listitem")).to_have_count(4)
    expect(activity.get_by_role("listitem").last).to_contain_text("Created by Ada Owner")
    expect(activity.get_by_role("listitem").first).to_contain_text("Untagged by Ada Owner")
    expect(activity.get_by_role("listitem").first).to_contain_text("early")

    page.get_by_role("link", name="Edit").click()
    expect(box(page, "Company")).to_have_value("Engines Ltd")
    box(page, "Company").fill("Analytical Engines")
    page.get_by_role("button", name="Save changes").click()
    expect(page).to_have_url(ada_url)
    expect(activity.get_by_role("listitem")).to_have_count(5)
    change = activity.get_by_role("listitem").first
    expect(change).to_contain_text("Updated by Ada Owner")
    row = change.get_by_role("row", name=re.compile("^Company"))
    expect(row).to_contain_text("Engines Ltd")
    expect(row).to_contain_text("Analytical Engines")
    expect(change.get_by_role("row", name=re.compile("^Plan"))).to_have_count(0)

    # Live: a change made elsewhere shows without a reload.
    rest.account("PATCH", f"/contacts/{ada_id}", {"company": "Difference Engines"})
    expect(page.get_by_role("region", name="Details")).to_contain_text("Difference Engines")
    expect(activity.get_by_role("listitem")).to_have_count(6)
    crumbs = page.get_by_role("navigation", name="Breadcrumbs")
    expect(crumbs).to_contain_text("Ada Lovelace")  # the record by its name, not "Details"
    screenshot(page, "contacts-detail")
    assert_accessible(page)

    # Deleting asks first, then the list no longer has the contact.
    page.get_by_role("button", name="Delete", exact=True).click()
    dialog = page.get_by_role("dialog", name="Delete Ada Lovelace?")
    dialog.get_by_role("button", name="Delete contact").click()
    expect(page).to_have_url(re.compile(r"/contacts$"))
    expect(page.get_by_text("2 contacts", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Ada Lovelace")).to_have_count(0)


def test_the_list_on_a_phone(open_page, service):
    page = open_page(PHONE)
    owner = email()
    account_id = sign_up(page, name="Mary Owner", email=owner, organisation="Phones")
    rest = Rest(service.url, owner)
    made = {
        name: rest.account("POST", "/contacts", {"name": name, "company": "A long company name"})
        for name in ("Grace Hopper", "Alan Turing", "Katherine Johnson")
    }
    rest.account("POST", f"/contacts/{made['Alan Turing']['id']}/tags", {"tags": ["VIP"]})
    vip = {"in": ["VIP", {"var": "contact.tags"}]}
    rest.account("POST", "/segments", {"name": "VIPs", "condition": vip})
    page.goto(f"/a/{account_id}/contacts")
    cards = page.get_by_role("list", name="Contacts")
    expect(cards.get_by_role("listitem")).to_have_count(3)
    expect(cards.get_by_role("listitem").filter(has_text="Alan Turing")).to_contain_text("VIP")

    # A segment narrows the list, and the URL keeps it.
    page.get_by_role("combobox", name="Segment").click()
    page.get_by_role("option", name="VIPs (1)").click()
    expect(cards.get_by_role("listitem")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"segment=[0-9a-f-]{36}"))
    page.go_back()
    expect(cards.get_by_role("listitem")).to_have_count(3)
    page.get_by_role("combobox", name="Sort by").click()
    page.get_by_role("option", name="Name, ascending").click()
    expect(page).to_have_url(re.compile(r"sort=name"))
    expect(cards.get_by_role("link").first).to_have_text("Alan Turing")
    # Nothing wider than the screen: no sideways scrolling for the page.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "contacts-list-phone")
    assert_accessible(page)

    # A live push adds the contact created elsewhere.
    rest.account("POST", "/contacts", {"name": "Ada Lovelace"})
    expect(cards.get_by_role("listitem")).to_have_count(4)
    cards.get_by_role("link", name="Ada Lovelace").click()
    expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
