"""A notification reaches its recipient's browser, and only theirs: an agent mentioned in
a note hears ``notification.created`` (shaped as the REST API lists it, with their unread
count) and ``notification.read`` once they read it; another agent of the account hears
neither."""

from __future__ import annotations

import time

from tests.api.test_conversations import setup_desk
from tests.api.test_inbox import make
from tests.api.test_reading import reply


def test_a_mentioned_agent_hears_of_it_and_another_agent_does_not(
    client, settle, web, listener, account, add_member
):
    ada, bob = add_member(account.account_id), add_member(account.account_id)
    channel_id, contact_id = setup_desk(client, account)
    talk = make(client, account, channel_id, contact_id)
    hers = listener().connect(web[0].url, ada)
    his = listener().connect(web[1].url, bob)
    reply(client, account, talk, "@Ada a look?", private=True, mentions=[ada.user_id])
    settle()

    (push,) = hers.wait_for("notification.created")
    assert push["room"] == f"user:{account.account_id}:{ada.user_id}"
    assert push["data"]["account_id"] == account.account_id
    assert push["data"]["unread_notifications"] == 1
    listed = client.get(ada.url("/notifications"), headers=ada.headers).json["items"]
    assert [push["data"]["notification"]] == listed  # the REST shape
    assert listed[0]["type"] == "mention" and listed[0]["conversation_id"] == talk

    read = client.post(ada.url(f"/notifications/{listed[0]['id']}/read"), headers=ada.headers)
    assert read.status_code == 200
    (marked,) = hers.wait_for("notification.read")
    assert marked["data"]["notification_ids"] == [listed[0]["id"]]
    assert marked["data"]["unread_notifications"] == 0

    time.sleep(0.5)  # long enough for a stray push to arrive
    assert his.named("notification.created") == his.named("notification.read") == []
