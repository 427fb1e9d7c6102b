"""Invitations: join an account through a link sent by email.

The link carries a random secret; only its sha256 is stored. An invitation is open
until accepted or revoked and usable until it expires (:data:`INVITATION_TTL`).
Resending issues a new secret (the old link stops working) at most once per
:data:`RESEND_INTERVAL`. Accepting proves the invitee reads that mailbox, so it also
marks their email verified.
"""

from __future__ import annotations

import hashlib
import html
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.mail import send_email
from identity.models import User
from identity.roles import PermissionMissing, require_subset, role_permissions
from identity.service import create_user, normalise_email
from tenants.db import utcnow
from tenants.models import Account, AccountRole, AccountStatus, Invitation, Membership, Role

INVITATION_TTL = timedelta(days=7)
RESEND_INTERVAL = timedelta(seconds=60)


class AlreadyMember(Exception):
    pass


class InvitationPending(Exception):
    """An open, unexpired invitation for this email exists: resend it instead."""


class InvitationError(Exception):
    """The token cannot be used; ``code`` says why."""

    code = "invitation_invalid"


class InvitationInvalid(InvitationError):
    code = "invitation_invalid"


class InvitationExpired(InvitationError):
    code = "invitation_expired"


class InvitationRevoked(InvitationError):
    code = "invitation_revoked"


class InvitationUsed(InvitationError):
    code = "invitation_used"


class EmailMismatch(Exception):
    pass


class ResendTooSoon(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"retry in {retry_after} s")


@dataclass(frozen=True)
class Accepted:
    invitation: Invitation
    membership: Membership
    user: User
    account: Account


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_secret(invitation: Invitation) -> str:
    token = secrets.token_urlsafe(32)
    invitation.token_hash = hash_token(token)
    return token


def status_of(invitation: Invitation, now: datetime | None = None) -> str:
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= (now or utcnow()):
        return "expired"
    return "pending"


def _may_grant(role: Role, custom_role: AccountRole | None, actor: frozenset[str]) -> None:
    if role is Role.OWNER and "owners:manage" not in actor:
        raise PermissionMissing(["owners:manage"])
    require_subset(role_permissions(role, custom_role), actor)


def _send(
    session: Session,
    invitation: Invitation,
    token: str,
    *,
    account_name: str,
    inviter_name: str | None,
    public_url: str,
) -> None:
    link = f"{public_url.rstrip('/')}/accept-invitation?{urlencode({'token': token})}"
    who = inviter_name or "A teammate"
    days = max(1, round((invitation.expires_at - utcnow()).total_seconds() / 86400))
    text = (
        f"{who} invited you to join {account_name} on Turumba.\n\n"
        f"Accept the invitation: {link}\n\n"
        f"The link works for {days} day(s). If you did not expect it, ignore this email.\n"
    )
    body = (
        f"<p>{html.escape(who)} invited you to join <strong>{html.escape(account_name)}"
        f'</strong> on Turumba.</p><p><a href="{html.escape(link)}">Accept the invitation</a>'
        f"</p><p>The link works for {days} day(s). If you did not expect it, ignore this"
        " email.</p>"
    )
    send_email(
        session,
        to=invitation.email,
        subject=f"You are invited to join {account_name} on Turumba",
        text=text,
        html=body,
    )


def open_invitation_for(
    session: Session, *, account_id: uuid.UUID, email: str
) -> Invitation | None:
    return session.scalar(
        select(Invitation).where(
            Invitation.account_id == account_id,
            Invitation.email == normalise_email(email),
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
    )


def invite(
    session: Session,
    *,
    account: Account,
    email: str,
    role: Role | None = None,
    custom_role: AccountRole | None = None,
    invited_by: User,
    actor: frozenset[str],
    public_url: str,
    ttl: timedelta = INVITATION_TTL,
) -> Invitation:
    """Create an invitation and queue its email (sent once the caller commits)."""
    if (role is None) == (custom_role is None):
        raise ValueError("give exactly one of role and custom_role")
    if custom_role is not None and custom_role.account_id != account.id:
        raise ValueError("the custom role belongs to another account")
    role = Role.AGENT if custom_role is not None else role
    _may_grant(role, custom_role, actor)
    email = normalise_email(email)
    member = session.scalar(
        select(Membership.user_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.account_id == account.id, User.email == email)
    )
    if member is not None:
        raise AlreadyMember(email)
    existing = open_invitation_for(session, account_id=account.id, email=email)
    if existing is not None:
        if status_of(existing) == "pending":
            raise InvitationPending(email)
        existing.revoked_at = utcnow()  # expired: make room for the new one
        session.flush()
    now = utcnow()
    invitation = Invitation(
        account_id=account.id,
        email=email,
        role=role,
        custom_role_id=custom_role.id if custom_role is not None else None,
        invited_by=invited_by.id,
        created_at=now,
        expires_at=now + ttl,
        last_sent_at=now,
        send_count=1,
    )
    token = _new_secret(invitation)
    try:
        with session.begin_nested():
            session.add(invitation)
            session.flush()
    except IntegrityError as exc:  # a concurrent invitation of the same email
        raise InvitationPending(email) from exc
    _send(
        session,
        invitation,
        token,
        account_name=account.name,
        inviter_name=invited_by.name,
        public_url=public_url,
    )
    return invitation


def open_invitations(session: Session, *, account_id: uuid.UUID) -> list[Invitation]:
    """Invitations neither accepted nor revoked (expired ones included), newest first."""
    return list(
        session.scalars(
            select(Invitation)
            .where(
                Invitation.account_id == account_id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
            )
            .order_by(Invitation.created_at.desc(), Invitation.id)
        )
    )


def get_open_invitation(
    session: Session, *, account_id: uuid.UUID, invitation_id: uuid.UUID
) -> Invitation | None:
    return session.scalar(
        select(Invitation)
        .where(
            Invitation.id == invitation_id,
            Invitation.account_id == account_id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .with_for_update()
    )


def resend(
    session: Session,
    invitation: Invitation,
    *,
    account: Account,
    sent_by: User,
    actor: frozenset[str],
    public_url: str,
    ttl: timedelta = INVITATION_TTL,
) -> Invitation:
    """A fresh secret (the previous link stops working) and expiry, emailed again."""
    custom = (
        session.get(AccountRole, invitation.custom_role_id) if invitation.custom_role_id else None
    )
    _may_grant(invitation.role, custom, actor)
    now = utcnow()
    wait = (invitation.last_sent_at + RESEND_INTERVAL - now).total_seconds()
    if wait > 0:
        raise ResendTooSoon(max(1, int(wait + 0.999)))
    token = _new_secret(invitation)
    invitation.expires_at = now + ttl
    invitation.last_sent_at = now
    invitation.send_count += 1
    session.flush()
    _send(
        session,
        invitation,
        token,
        account_name=account.name,
        inviter_name=sent_by.name,
        public_url=public_url,
    )
    return invitation


def revoke(session: Session, invitation: Invitation) -> None:
    invitation.revoked_at = utcnow()
    session.flush()


def account_of_token(session: Session, token: str) -> Account | None:
    """The account an invitation token is for (whatever its state), or None."""
    return session.scalar(
        select(Account)
        .join(Invitation, Invitation.account_id == Account.id)
        .where(Invitation.token_hash == hash_token(token))
    )


def _usable(session: Session, token: str) -> tuple[Invitation, Account]:
    invitation = session.scalar(
        select(Invitation).where(Invitation.token_hash == hash_token(token)).with_for_update()
    )
    if invitation is None:
        raise InvitationInvalid
    account = session.get(Account, invitation.account_id)
    if account is None or account.status is AccountStatus.DELETED:
        raise InvitationInvalid
    status = status_of(invitation)
    if status == "accepted":
        raise InvitationUsed
    if status == "revoked":
        raise InvitationRevoked
    if status == "expired":
        raise InvitationExpired
    return invitation, account


def _join(session: Session, invitation: Invitation, account: Account, user: User) -> Accepted:
    if session.get(Membership, (invitation.account_id, user.id)) is not None:
        raise AlreadyMember(user.email)
    now = utcnow()
    membership = Membership(
        account_id=invitation.account_id,
        user_id=user.id,
        role=invitation.role,
        custom_role_id=invitation.custom_role_id,
        created_at=now,
    )
    session.add(membership)
    invitation.accepted_at = now
    invitation.accepted_by = user.id
    if user.email_verified_at is None:
        user.email_verified_at = now  # the token came through that mailbox
    session.flush()
    return Accepted(invitation, membership, user, account)


def accept(session: Session, *, token: str, user: User) -> Accepted:
    """The signed-in ``user`` (whose email must be the invited one) joins the account."""
    invitation, account = _usable(session, token)
    if normalise_email(user.email) != invitation.email:
        raise EmailMismatch(invitation.email)
    return _join(session, invitation, account, user)


def accept_as_new_user(session: Session, *, token: str, name: str, password: str) -> Accepted:
    """Create the invited user (email verified) and join; EmailTaken if they exist already."""
    invitation, account = _usable(session, token)
    user = create_user(session, email=invitation.email, password=password, name=name)
    return _join(session, invitation, account, user)


def invitation_snapshot(invitation: Invitation) -> dict:
    """What the audit log keeps of an invitation (never the token)."""
    return {
        "email": invitation.email,
        "role": invitation.role.value,
        "custom_role_id": str(invitation.custom_role_id) if invitation.custom_role_id else None,
        "expires_at": invitation.expires_at.isoformat(),
    }
