"""The agents' inbox as an agent works it: the list and the thread kept live by pushes,
replies with canned responses, private notes, assignment and the lifecycle; and the same
inbox on a phone."""

from __future__ import annotations

import json
import re
import time
import urllib.parse
import urllib.request
import uuid

from playwright.sync_api import expect

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

#: How long to wait for what a push brings (the worker and relay share a busy machine).
LIVE = 20_000


def email() -> str:
    return f"agent-{uuid.uuid4().hex[:8]}@example.com"


def conversation_with(rest: Rest, name: str, first_message: str, channel_id: str) -> str:
    """A contact who wrote in on ``channel_id``: the new conversation's id."""
    contact = rest.account(
        "POST", "/contacts", {"name": name, "email": f"{uuid.uuid4().hex[:8]}@example.org"}
    )
    conversation = rest.account(
        "POST", "/conversations", {"channel_id": channel_id, "contact_id": contact["id"]}
    )
    inbound(rest, conversation["id"], first_message)
    return conversation["id"]


def inbound(rest: Rest, conversation_id: str, body: str) -> None:
    rest.account(
        "POST",
        f"/conversations/{conversation_id}/messages",
        {"direction": "inbound", "sender_type": "contact", "body": body},
    )


def teammate(rest: Rest, mailbox, owner: str, name: str) -> str:
    """An agent invited (by ``owner``, verified first) who accepted: their email."""
    token = urllib.parse.parse_qs(emailed_link(mailbox, owner, "/verify-email").split("?")[1])
    rest.call("POST", "/v1/auth/verify-email", {"token": token["token"][0]})
    address = email()
    rest.account("POST", "/invitations", {"email": address, "role": "agent"})
    link = emailed_link(mailbox, address, "/accept-invitation")
    token = urllib.parse.parse_qs(link.split("?")[1])["token"][0]
    accept = urllib.request.Request(  # as nobody: the invitation creates the user
        f"{rest.url}/v1/invitations/accept",
        data=json.dumps({"token": token, "name": name, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(accept, timeout=15) as answer:
        assert answer.status == 200
    return address


def unread_of(rest: Rest, conversation_id: str) -> int:
    items = rest.account("GET", "/inbox?tab=all&per_page=100")["items"]
    return next(item["unread_count"] for item in items if item["id"] == conversation_id)


def eventually(check, timeout: float = 15) -> None:
    """Wait for ``check()`` to hold (what the browser does reaches the API by itself)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "never came true"
        time.sleep(0.2)


def test_an_agent_answers_a_conversation_that_stays_live(open_page, service, mailbox):
    page = open_page()
    address = email()
    account_id = sign_up(page, name="Ada Lovelace", email=address, organisation="Engines")
    rest = Rest(service.url, address)
    hedy = teammate(rest, mailbox, address, "Hedy Lamarr")
    channel = rest.account("POST", "/channels", {"type": "email", "name": "Support"})
    grace = conversation_with(rest, "Grace Hopper", "Hello, my order is late.", channel["id"])
    rest.account(
        "POST",
        "/canned-responses",
        {
            "short_code": "sorry",
            "title": "Apology for a delay",
            "body": "Sorry for the delay, {{ contact.name }}: it ships today.",
        },
    )
    rest.account(
        "POST", "/canned-responses", {"short_code": "hello", "title": "Greeting", "body": "Hello!"}
    )
    rest.account(
        "POST",
        "/templates",
        {"name": "Shipping update", "body": "Hi {{ contact.name }}, your parcel is on its way."},
    )

    page.goto(f"/a/{account_id}/inbox?tab=all")
    conversations = page.get_by_role("region", name="Conversations")
    expect(conversations.get_by_role("tab", name=re.compile(r"^All\s*1$"))).to_have_attribute(
        "aria-selected", "true"
    )
    grace_item = conversations.get_by_role("link", name=re.compile("Grace Hopper"))
    expect(grace_item).to_contain_text("Hello, my order is late.")
    expect(grace_item).to_contain_text("1 unread")
    expect(grace_item).to_contain_text("Unassigned")
    screenshot(page, "inbox-list")
    assert_accessible(page)

    grace_item.click()
    expect(page).to_have_url(re.compile(rf"/inbox/{grace}\?tab=all$"))
    thread = page.get_by_role("region", name="Conversation with Grace Hopper")
    messages = thread.get_by_role("list", name="Messages")
    expect(
        messages.get_by_role("listitem").filter(has_text="Hello, my order is late.")
    ).to_contain_text("Grace Hopper")
    expect(grace_item).not_to_contain_text("unread")
    eventually(lambda: unread_of(rest, grace) == 0)  # opening it marked it read

    # Live, without a reload: a new message in the open thread, and a new conversation.
    inbound(rest, grace, "Any news?")
    expect(messages).to_contain_text("Any news?", timeout=LIVE)
    expect(grace_item).to_contain_text("Any news?", timeout=LIVE)
    expect(grace_item).not_to_contain_text("unread")
    alan = conversation_with(rest, "Alan Turing", "Can you help me too?", channel["id"])
    alan_item = conversations.get_by_role("link", name=re.compile("Alan Turing"))
    expect(alan_item).to_contain_text("1 unread", timeout=LIVE)
    expect(conversations.get_by_role("tab", name=re.compile(r"^All\s*2$"))).to_be_visible(
        timeout=LIVE
    )
    inbound(rest, alan, "Hello?")
    expect(alan_item).to_contain_text("2 unread", timeout=LIVE)
    expect(alan_item).to_contain_text("Hello?")
    inbound(rest, grace, "Still there?")  # the open conversation goes back to the top
    expect(conversations.get_by_role("listitem").first).to_contain_text(
        "Grace Hopper", timeout=LIVE
    )
    expect(grace_item).not_to_contain_text("unread")
    inbound(rest, alan, "Are you there?")  # one not open: to the top, one more unread
    expect(conversations.get_by_role("listitem").first).to_contain_text("Alan Turing", timeout=LIVE)
    expect(alan_item).to_contain_text("3 unread")

    # A template, rendered with the conversation's data.
    reply = thread.get_by_role("textbox", name="Reply")
    thread.get_by_role("button", name="Templates").click()
    page.get_by_role("menuitem", name="Shipping update").click()
    expect(reply).to_have_value("Hi Grace Hopper, your parcel is on its way.")
    expect(page.get_by_role("menu")).to_have_count(0)  # closed, not left half-way
    reply.fill("")

    # A reply from a canned response chosen by its /shortcode, sent with Ctrl+Enter.
    reply.press_sequentially("/so")
    suggestions = page.get_by_role("listbox", name="Canned responses")
    expect(suggestions.get_by_role("option")).to_have_count(1)
    expect(
        suggestions.get_by_role("option", name=re.compile(r"^\/sorry\s*Apology for a delay$"))
    ).to_be_visible()
    assert_accessible(page)  # the suggestions too
    reply.press("Enter")  # the best match is picked: Enter takes it
    # Its variables filled in for this conversation, as it will be sent.
    expect(reply).to_have_value("Sorry for the delay, Grace Hopper: it ships today.")
    reply.press("Control+Enter")
    sent = messages.get_by_role("listitem").filter(has_text="Sorry for the delay, Grace Hopper")
    expect(sent).to_contain_text("You")
    expect(sent).to_contain_text("Queued")
    expect(reply).to_have_value("")
    expect(grace_item).to_contain_text("Sorry for the delay")

    # A private note, shown as one and not delivered anywhere.
    thread.get_by_role("switch", name="Private note").check()
    note = thread.get_by_role("textbox", name="Private note")
    note.fill("Checked with the warehouse.")
    assert_accessible(page)
    thread.get_by_role("button", name="Add note").click()
    noted = messages.get_by_role("listitem").filter(has_text="Checked with the warehouse.")
    expect(noted).to_contain_text("Private note")
    expect(noted).not_to_contain_text("Queued")
    expect(note).to_have_value("")
    thread.get_by_role("switch", name="Private note").uncheck()
    notes = rest.account("GET", f"/conversations/{grace}/messages")["items"]
    assert [m["private"] for m in notes if m["body"] == "Checked with the warehouse."] == [True]

    # Assigned to oneself: the thread and the list say so, and the Mine tab counts it.
    thread.get_by_role("button", name="Assign to me").click()
    expect(thread).to_contain_text("Assignee: Ada Lovelace")
    expect(thread).to_contain_text("Status: Assigned")
    expect(grace_item).to_contain_text("Assigned to You", timeout=LIVE)
    expect(conversations.get_by_role("tab", name=re.compile(r"^Mine\s*1$"))).to_be_visible(
        timeout=LIVE
    )
    expect(thread.get_by_role("button", name="Assign to me")).to_have_count(0)

    # Tagged, then untagged again.
    tags = thread.get_by_label("Tags", exact=True)
    tags.fill("late-delivery")
    tags.press("Enter")
    eventually(lambda: rest.account("GET", f"/conversations/{grace}")["tags"] == ["late-delivery"])
    expect(thread).to_contain_text("late-delivery")
    tags.press("Backspace")
    eventually(lambda: rest.account("GET", f"/conversations/{grace}")["tags"] == [])

    # A teammate with the conversation open: each sees the other typing.
    other = open_page()
    sign_in(other, hedy)
    expect(other).to_have_url(re.compile(r"/dashboard$"))
    other.goto(f"/a/{account_id}/inbox/{grace}?tab=all")
    their_thread = other.get_by_role("region", name="Conversation with Grace Hopper")
    expect(their_thread.get_by_role("list", name="Messages")).to_contain_text("Still there?")
    expect(their_thread).to_contain_text("Assignee: Ada Lovelace")
    their_reply = their_thread.get_by_role("textbox", name="Reply")
    their_reply.press_sequentially("Let me")
    typing = thread.get_by_role("status").filter(has_text="typing")
    expect(typing).to_have_text("Hedy Lamarr is typing…", timeout=LIVE)
    crumbs = page.get_by_role("navigation", name="Breadcrumbs")
    expect(crumbs).to_contain_text("Grace Hopper")
    screenshot(page, "inbox-thread")
    assert_accessible(page)
    their_reply.blur()  # stopped typing
    expect(typing).to_have_count(0, timeout=LIVE)
    reply.press_sequentially("Hm")
    expect(their_thread.get_by_role("status").filter(has_text="typing")).to_have_text(
        "Ada Lovelace is typing…", timeout=LIVE
    )
    reply.fill("")

    # Resolved: it may now be reopened or closed, and leaves the list of working conversations.
    thread.get_by_role("button", name="Resolve").click()
    expect(thread).to_contain_text("Status: Resolved")
    expect(thread.get_by_role("button", name="Reopen")).to_be_visible()
    expect(thread.get_by_role("button", name="Close")).to_be_visible()
    expect(grace_item).to_have_count(0, timeout=LIVE)
    assert rest.account("GET", f"/conversations/{grace}")["status"] == "resolved"

    # Resolved ones are a status filter away; tab, statuses and order are in the URL.
    statuses = conversations.get_by_role("combobox", name="Status")
    statuses.focus()
    statuses.press("ArrowDown")
    page.get_by_role("option", name="Resolved").click()
    page.keyboard.press("Escape")
    expect(page).to_have_url(re.compile(r"status=resolved"))
    expect(grace_item).to_contain_text("Resolved")
    conversations.get_by_role("tab", name=re.compile("^Mine")).click()
    expect(page).to_have_url(re.compile(r"tab=mine"))
    expect(grace_item).to_be_visible()
    expect(alan_item).to_have_count(0)
    page.goto(f"/a/{account_id}/inbox?tab=mine&sort=waiting_since")
    expect(conversations.get_by_role("combobox", name="Sort by")).to_have_value("Waiting longest")
    expect(conversations).to_contain_text("No conversations here.")  # none working is mine


def test_the_inbox_on_a_phone_shows_the_list_then_the_thread(open_page, service):
    page = open_page(PHONE)
    address = email()
    account_id = sign_up(page, name="Mary Somerville", email=address, organisation="Orbits")
    rest = Rest(service.url, address)
    channel = rest.account("POST", "/channels", {"type": "email", "name": "Support"})
    conversation_with(rest, "Caroline Herschel", "Have you seen the comet?", channel["id"])

    page.goto(f"/a/{account_id}/inbox")
    item = page.get_by_role("link", name=re.compile("Caroline Herschel"))
    expect(item).to_contain_text("Have you seen the comet?")
    item.click()
    thread = page.get_by_role("region", name="Conversation with Caroline Herschel")
    expect(thread.get_by_role("list", name="Messages")).to_contain_text("Have you seen the comet?")
    expect(page.get_by_role("region", name="Conversations")).to_have_count(0)
    box = thread.bounding_box()
    assert box is not None and box["width"] > 0.8 * PHONE["width"]  # the thread takes the width
    screenshot(page, "inbox-phone")
    assert_accessible(page)

    thread.get_by_role("link", name="Back to conversations").click()
    expect(item).to_be_visible()
    expect(thread).to_have_count(0)
