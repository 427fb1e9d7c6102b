"""The automation designer as an admin uses it: a rule built click by click in the
condition builder (a nested group), its actions picked from the account's agents and
tags, tried on a conversation, then run for real by the workers; read back unchanged;
and the rule list's switches and keyboard reordering."""

from __future__ import annotations

import json
import re
import time
import uuid

from playwright.sync_api import Page, expect

from tests.web.conftest import PHONE, Rest, assert_accessible, screenshot, sign_in, sign_up


def email() -> str:
    return f"admin-{uuid.uuid4().hex[:8]}@example.com"


def eventually(check, timeout: float = 20) -> None:
    """Wait for ``check()`` to hold (the workers run rules on their own time)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "never came true"
        time.sleep(0.25)


def pick(page: Page, label: str, option: str) -> None:
    """Choose ``option`` in the Mantine select labelled ``label``."""
    page.get_by_role("combobox", name=re.compile(rf"^{re.escape(label)}( \*)?$")).click()
    page.get_by_role("option", name=option, exact=True).click()


def test_an_admin_designs_tests_and_runs_a_rule(open_page, service):
    page = open_page()
    address = email()
    account_id = sign_up(page, name="Ada Lovelace", email=address, organisation="Engines")
    rest = Rest(service.url, address)
    me = rest.call("GET", "/v1/me/context")["user"]["id"]
    support = rest.account("POST", "/channels", {"type": "email", "name": "Support"})
    rest.account("POST", "/channels", {"type": "email", "name": "Sales"})
    rest.account("POST", "/tags", {"name": "vip"})
    grace = rest.account(
        "POST", "/contacts", {"name": "Grace Hopper", "email": "grace@example.org"}
    )
    tried_on = rest.account(
        "POST",
        "/conversations",
        {
            "channel_id": support["id"],
            "contact_id": grace["id"],
            "priority": "high",
            "subject": "Late order",
        },
    )

    page.goto(f"/a/{account_id}/automation")
    expect(page.get_by_role("heading", name="Automation")).to_be_visible()
    expect(page.get_by_text("No rule yet.")).to_be_visible()
    page.get_by_role("link", name="New rule").click()
    expect(page).to_have_url(re.compile(r"/automation/new$"))

    page.get_by_role("textbox", name="Name").fill("VIP escalation")
    # The trigger: conversation.created is preselected for a new rule.
    expect(page.get_by_text("conversation.created").first).to_be_visible()

    # AND( priority == high, OR( channel is Support, contact's email contains "@example" ) )
    builder = page.get_by_role("form", name="Rule")
    builder.get_by_role("button", name="Add condition").first.click()
    fields = builder.get_by_role("combobox", name="Field")
    fields.nth(0).select_option("conversation.priority")
    tests = builder.get_by_role("combobox", name="Test")
    tests.nth(0).select_option("equal")
    builder.get_by_role("combobox", name="Value").nth(0).select_option("high")

    builder.get_by_role("button", name="Add group").first.click()
    expect(fields).to_have_count(2)
    fields.nth(1).select_option("conversation.channel_id")
    tests.nth(1).select_option("equal")
    builder.get_by_role("combobox", name="Value").nth(1).select_option(label="Support (email)")
    builder.get_by_role("button", name="Add condition").nth(1).click()
    expect(fields).to_have_count(3)
    fields.nth(2).select_option("contact.email")
    tests.nth(2).select_option("contains")
    builder.get_by_role("textbox", name="Value").fill("@example")
    # The group's And/Or shows once it holds two conditions: the root's first, then the group's.
    expect(builder.get_by_role("radio", name="And").nth(1)).to_be_checked()
    builder.get_by_role("radio", name="Or").nth(1).check()

    written = {
        "and": [
            {"==": [{"var": "conversation.priority"}, "high"]},
            {
                "or": [
                    {"==": [{"var": "conversation.channel_id"}, support["id"]]},
                    {"in": ["@example", {"var": "contact.email"}]},
                ]
            },
        ]
    }
    jsonlogic = builder.get_by_role("textbox", name="JSONLogic")
    expect(jsonlogic).to_have_value(json.dumps(written, indent=2))

    # Saved without an action: the API's refusal shows where the actions go.
    builder.get_by_role("button", name="Create rule").click()
    expect(builder.get_by_text("at least one action is required", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/automation/new$"))

    # Then: assign to the owner, tag vip.
    builder.get_by_role("button", name="Add action").click()
    pick(page, "Action 1", "Assign to an agent")
    pick(page, "Agent", f"Ada Lovelace ({address})")
    builder.get_by_role("button", name="Add action").click()
    pick(page, "Action 2", "Add a tag")
    page.get_by_role("combobox", name=re.compile(r"^Tag( \*)?$")).fill("vip")
    page.keyboard.press("Escape")
    screenshot(page, "automation-editor")
    assert_accessible(page)

    builder.get_by_role("button", name="Create rule").click()
    expect(page.get_by_role("status").filter(has_text="Saved as version 1.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/automation/[0-9a-f-]{36}$"))
    rule_id = page.url.rsplit("/", 1)[1]
    rule = rest.account("GET", f"/automation/rules/{rule_id}")
    assert rule["conditions"] == written
    assert rule["events"] == ["conversation.created"]
    assert rule["actions"] == [
        {"type": "assign_agent", "params": {"agent_id": me}},
        {"type": "add_tag", "params": {"tag": "vip"}},
    ]

    # Test: a dry run on the conversation there is, each condition's result shown.
    test = page.get_by_role("region", name="Test")
    test.get_by_label("Conversation").click()
    page.get_by_role("option", name=re.compile(f"^Late order .* {tried_on['id'][:8]}$")).click()
    test.get_by_role("button", name="Run test").click()
    expect(test.get_by_text("Matches", exact=True)).to_be_visible()
    results = test.get_by_role("list", name="Conditions evaluated")
    expect(results.get_by_role("listitem", name="All of: true")).to_be_visible()
    expect(results.get_by_role("listitem", name="Priority equals high: true")).to_be_visible()
    expect(results.get_by_role("listitem", name="Any of: true")).to_be_visible()
    expect(
        results.get_by_role("listitem", name="Channel equals Support (email): true")
    ).to_be_visible()
    expect(
        results.get_by_role("listitem", name="Contact email contains @example: true")
    ).to_be_visible()
    would = test.get_by_role("list", name="Actions that would run")
    expect(would).to_contain_text("Assign to an agent")
    expect(would).to_contain_text("Add a tag")
    screenshot(page, "automation-test")
    assert_accessible(page)

    # For real: a new high-priority conversation from an @example address is assigned and tagged.
    alan = rest.account("POST", "/contacts", {"name": "Alan Turing", "email": "alan@example.com"})
    real = rest.account(
        "POST",
        "/conversations",
        {
            "channel_id": support["id"],
            "contact_id": alan["id"],
            "priority": "high",
            "subject": "Urgent",
        },
    )
    eventually(
        lambda: (
            (c := rest.account("GET", f"/conversations/{real['id']}"))["assignee_id"] == me
            and c["tags"] == ["vip"]
        )
    )
    page.get_by_role("tab", name="Run log").click()
    # (The conversation tried on may have its run too: its creation can reach the
    # workers after the rule was saved.)
    run = (
        page.get_by_role("table", name="Run log").get_by_role("row").filter(has_text=real["id"][:8])
    )
    expect(run).to_contain_text("conversation.created")
    expect(run).to_contain_text("Assign to an agent")
    expect(run).to_contain_text("Add a tag")
    expect(run.get_by_text("done")).to_have_count(2)
    page.goto(f"/a/{account_id}/inbox/{real['id']}")
    expect(page.get_by_role("combobox", name="Assignee")).to_have_value("Ada Lovelace")
    expect(page.get_by_text("vip", exact=True).first).to_be_visible()

    # Read back: the builder re-imports the saved conditions unchanged.
    page.goto(f"/a/{account_id}/automation/{rule_id}")
    jsonlogic = page.get_by_role("textbox", name="JSONLogic")
    expect(jsonlogic).to_have_value(json.dumps(written, indent=2))
    expect(page.get_by_role("combobox", name="Field")).to_have_count(3)
    expect(page.get_by_role("combobox", name="Value").first).to_have_value("high")

    # The JSONLogic view edited by hand is read back into the builder.
    jsonlogic.fill(json.dumps(written).replace('"high"', '"urgent"'))
    page.get_by_role("button", name="Apply to the builder").click()
    expect(page.get_by_role("combobox", name="Value").first).to_have_value("urgent")
    expect(jsonlogic).to_have_value(json.dumps(written, indent=2).replace('"high"', '"urgent"'))
    jsonlogic.fill('{"==": [{"var": "conversation.custom_attributes.plan"}, "pro"]}')
    page.get_by_role("button", name="Apply to the builder").click()
    expect(page.get_by_role("alert").filter(has_text="The builder cannot show")).to_be_visible()


def test_the_rule_list_switches_and_reorders_rules_from_the_keyboard(open_page, service):
    page = open_page()
    address = email()
    account_id = sign_up(page, name="Grace Hopper", email=address, organisation="Compilers")
    rest = Rest(service.url, address)
    tag = {"type": "add_tag", "params": {"tag": "seen"}}
    first = rest.account(
        "POST",
        "/automation/rules",
        {"name": "First rule", "events": ["conversation.created"], "actions": [tag]},
    )
    second = rest.account(
        "POST",
        "/automation/rules",
        {
            "name": "Second rule",
            "events": ["message.created"],
            "conditions": {"==": [{"var": "conversation.priority"}, "urgent"]},
            "actions": [tag],
        },
    )

    page.goto(f"/a/{account_id}/automation")
    rules = page.get_by_role("list", name="Rules in run order")
    expect(rules.get_by_role("listitem")).to_have_count(2)
    expect(rules.get_by_role("listitem").first).to_contain_text("First rule")
    screenshot(page, "automation-list")
    assert_accessible(page)

    # Switch the second one off (from the keyboard).
    switch = page.get_by_role("switch", name="Enabled: Second rule")
    expect(switch).to_be_checked()
    switch.focus()
    page.keyboard.press("Space")
    expect(switch).not_to_be_checked()
    eventually(lambda: rest.account("GET", f"/automation/rules/{second['id']}")["enabled"] is False)

    # Move the first one down with the keyboard: Space, arrow down, Space.
    handle = page.get_by_role("button", name="Move First rule (position 1)")
    handle.focus()
    page.keyboard.press("Space")
    expect(page.get_by_text("First rule is at position 1.")).to_be_attached()  # picked up
    # dnd-kit listens for the arrow keys a moment after the pick-up: press until it moved
    # (with two rules, more presses cannot move it further).
    moved_down = page.get_by_text("First rule is at position 2.")

    def press_down() -> bool:
        page.keyboard.press("ArrowDown")
        return moved_down.count() == 1

    eventually(press_down, timeout=5)
    page.keyboard.press("Space")
    expect(page.get_by_text("First rule was dropped at position 2.")).to_be_attached()
    expect(rules.get_by_role("listitem").first).to_contain_text("Second rule")
    order = lambda: [r["id"] for r in rest.account("GET", "/automation/rules")["items"]]  # noqa: E731
    eventually(lambda: order() == [second["id"], first["id"]])
    page.reload()
    expect(rules.get_by_role("listitem").first).to_contain_text("Second rule")
    expect(page.get_by_role("switch", name="Enabled: Second rule")).not_to_be_checked()

    # Versions: the switch made version 2; restoring version 1 brings it back on as version 3.
    rules.get_by_role("link", name="Second rule").click()
    page.get_by_role("tab", name="Versions").click()
    page.get_by_role("button", name="Version 1").click()
    page.get_by_role("button", name="Restore version 1").click()
    expect(page.get_by_role("status").filter(has_text="restored as version 3")).to_be_visible()
    restored = rest.account("GET", f"/automation/rules/{second['id']}")
    assert restored["version"] == 3 and restored["enabled"] is True

    # On a phone: the editor fits the screen, the builder included.
    phone = open_page(PHONE)
    sign_in(phone, address)
    expect(phone).to_have_url(re.compile(r"/dashboard$"))
    phone.goto(f"/a/{account_id}/automation/{second['id']}")
    expect(phone.get_by_role("combobox", name="Field")).to_have_value("conversation.priority")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(phone, "automation-editor-phone")
    assert_accessible(phone)

    # Deleted (on the desktop), after a confirmation.
    page.get_by_role("button", name="Delete rule").click()
    page.get_by_role("dialog", name="Delete this rule?").get_by_role(
        "button", name="Delete"
    ).click()
    expect(page).to_have_url(re.compile(r"/automation$"))
    expect(rules.get_by_role("listitem")).to_have_count(1)
    assert order() == [first["id"]]
