"""Soft deletion: accounts (owners, restorable within retention, then purged) and users."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from sqlalchemy import select, update

from accounts.cli import purge_expired_job
from identity.models import User
from tenants.db import db, utcnow
from tenants.models import Account, AccountStatus, Membership, Role


def delete_account(client, member):
    return client.delete(member.url(), headers=member.headers)


def deleted_list(client, member):
    response = client.get("/v1/me/deleted-accounts", headers=member.headers)
    assert response.status_code == 200, response.json
    return response.json["items"]


def age_deletion(app, member, days: int) -> None:
    """Pretend the account was deleted ``days`` ago (real rows, moved back in time)."""
    with app.app_context():
        db.session.execute(
            update(Account)
            .where(Account.id == uuid.UUID(member.account_id))
            .values(status_changed_at=utcnow() - timedelta(days=days))
        )
        db.session.commit()


def account_row(app, member) -> Account | None:
    with app.app_context():
        return db.session.get(Account, uuid.UUID(member.account_id))


def test_only_owners_delete_and_strangers_learn_nothing(
    client, account, agent, add_member, other_account
):
    admin = add_member(account.account_id, "admin")
    for member in (agent, admin):
        response = delete_account(client, member)
        assert response.status_code == 403
        assert response.json["errors"] == {"permission": ["account:delete"]}
    response = client.delete(account.url(), headers=other_account.headers)
    assert response.status_code == 404
    assert client.get(account.url(), headers=account.headers).status_code == 200


def test_delete_hides_the_account_and_its_owner_restores_it(app, client, account, agent):
    response = delete_account(client, account)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["id"] == account.account_id
    assert body["purge_after"] > body["deleted_at"]

    # Gone for everyone, including its members: the same 404 as a stranger's account.
    for member in (account, agent):
        response = client.get(member.url("/contacts"), headers=member.headers)
        assert response.status_code == 404
        assert response.json["code"] == "account_not_found"
    context = client.get("/v1/me/context", headers=account.headers).json
    assert account.account_id not in [a["id"] for a in context["accounts"]]

    # Its owner sees it among their deleted accounts; the agent neither sees nor restores it.
    assert [a["id"] for a in deleted_list(client, account)] == [account.account_id]
    assert deleted_list(client, agent) == []
    restore = f"/v1/accounts/{account.account_id}/restore"
    response = client.post(restore, headers=agent.headers)
    assert response.status_code == 404

    response = client.post(restore, headers=account.headers)
    assert response.status_code == 200, response.json
    assert response.json["status"] == "active"
    assert client.get(account.url("/contacts"), headers=agent.headers).status_code == 200
    assert deleted_list(client, account) == []
    # Restoring an account that is not deleted is a 404 as well.
    assert client.post(restore, headers=account.headers).status_code == 404

    # Both events are in the account's own audit log.
    log = client.get(account.url("/audit-log"), headers=account.headers).json["items"]
    assert [e["action"] for e in log[:2]] == ["account.restored", "account.deleted"]
    assert log[1]["actor_id"] == account.user_id
    assert log[1]["after"]["status"] == "deleted"


def test_after_retention_it_cannot_be_restored_and_is_purged(
    app, client, account, other_account, signup
):
    slug = client.get(account.url(), headers=account.headers).json["slug"]
    assert delete_account(client, account).status_code == 200
    young = signup("Recent")
    assert delete_account(client, young).status_code == 200
    age_deletion(app, account, days=31)

    assert deleted_list(client, account) == []
    restore = f"/v1/accounts/{account.account_id}/restore"
    assert client.post(restore, headers=account.headers).status_code == 404

    runner = app.test_cli_runner()
    result = runner.invoke(args=["tenants", "purge-expired"])
    assert result.exit_code == 0, result.output
    assert account_row(app, account) is None
    # The recently deleted account and the live one stay.
    assert account_row(app, young).status is AccountStatus.DELETED
    assert account_row(app, other_account).status is AccountStatus.ACTIVE
    purged = json.loads(result.output.strip().splitlines()[-1])
    assert slug in purged["accounts"]
    with app.app_context():
        assert purge_expired_job()["accounts"] == []  # nothing left to purge


def test_a_user_deletes_themself_and_cannot_log_in_until_restored(app, client, account, agent):
    response = client.delete("/v1/me", headers=agent.headers)
    assert response.status_code == 204, response.json
    login = {"email": agent.email, "password": agent.password}
    response = client.post("/v1/auth/login", json=login)
    assert response.status_code == 401
    assert response.json["code"] == "invalid_credentials"

    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "restore", agent.email])
    assert result.exit_code == 0, result.output
    assert client.post("/v1/auth/login", json=login).status_code == 200

    # Outside the retention period there is nothing to restore.
    assert client.delete("/v1/me", headers=agent.headers).status_code == 204
    with app.app_context():
        db.session.execute(
            update(User)
            .where(User.email == agent.email)
            .values(deleted_at=utcnow() - timedelta(days=31))
        )
        db.session.commit()
    result = runner.invoke(args=["users", "restore", agent.email])
    assert result.exit_code != 0
    assert "no user" in result.output
    # ... and the purge removes them (their membership goes with them).
    assert runner.invoke(args=["tenants", "purge-expired"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == agent.email)) is None


def test_the_last_owner_cannot_delete_themself(app, client, account, add_member, other_account):
    response = client.delete("/v1/me", headers=account.headers)
    assert response.status_code == 409
    assert response.json["code"] == "last_owner"
    assert response.json["errors"]["accounts"] == [f"Acme ({account.account_id})"]
    assert other_account.account_id not in json.dumps(response.json)

    # With a second owner they may go; that owner is then the last one.
    second = add_member(account.account_id, "owner")
    assert client.delete("/v1/me", headers=account.headers).status_code == 204
    response = client.delete("/v1/me", headers=second.headers)
    assert response.status_code == 409
    # A deleted account does not hold its owner back.
    assert delete_account(client, second).status_code == 200
    assert client.delete("/v1/me", headers=second.headers).status_code == 204
    with app.app_context():
        owners = db.session.scalars(
            select(Membership.user_id).where(
                Membership.account_id == uuid.UUID(account.account_id),
                Membership.role == Role.OWNER,
            )
        ).all()
        assert len(owners) == 2  # memberships are kept for a restore
