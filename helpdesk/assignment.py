"""Automatic assignment: per-channel policies, agents' availability and capacity.

A channel's policy (``manual`` unless set) decides whether its waiting conversations
(``open`` and unassigned) are given to an agent automatically, and to whom:

- ``round_robin``: the next eligible agent after the one last picked for that channel
  (the pointer is kept on the policy);
- ``least_loaded``: the eligible agent with the fewest open conversations, ties broken
  by that same rotation.

Eligible means attached to the channel's inbox, a member of the account, ``online``, and
under capacity: the agent's own capacity if set, else the policy's, else no limit. A
conversation counts towards its assignee's load while ``open``, ``assigned`` or
``pending``. With nobody eligible the conversation waits. People may assign beyond
capacity (a human decides); automatic assignment never does.

Event consumers (run by the RQ workers) drive it: a conversation that is created, or
becomes open and unassigned again, is offered to its channel's policy; whenever an agent
may take more (one of theirs was resolved, closed, snoozed or handed to someone else,
they came online, a capacity or a policy changed) the longest waiting conversations of
their channels are assigned. Every assignment goes through
:func:`helpdesk.conversations.assign`, as the system, naming the policy.

Concurrency: one assignment is one short transaction that locks, in this order, the
conversation, its channel's policy row, and the availability rows of the channel's
online agents (one ``SELECT … ORDER BY user_id FOR UPDATE``), then counts their loads
and assigns. An automatic assignment can only add load to an agent whose row it holds
until it commits, so a second assigner wanting that agent waits for the lock, and its
load count, a later statement under READ COMMITTED, sees the first one's conversation:
two workers never both take an agent's last free slot. The policy lock makes the
round-robin pointer's read-and-advance atomic too. Locks are taken in that order, agent
rows in user id order, and nothing holding an agent row waits for a conversation or a
policy, so assigners cannot deadlock. Availability and capacity changes write the same
rows and so wait for an assignment in flight (or it for them). Manual assignments take
none of these locks: they may exceed capacity by design.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    Select,
    String,
    Uuid,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from audit.service import SYSTEM, Actor, changes, record
from events import names
from events.consumers import Event, consumer
from events.outbox import emit
from helpdesk import states
from helpdesk.channels import channels_worked_by, inbox_agents
from helpdesk.conversations import assign
from helpdesk.errors import InvalidField
from helpdesk.members import require_member
from helpdesk.models import Channel, Conversation
from identity.models import User
from tenants.db import TenantBase, Timestamps
from tenants.models import Membership
from tenants.registry import AccountRecord, live_account
from tenants.session import tenant_session

MANUAL, ROUND_ROBIN, LEAST_LOADED = "manual", "round_robin", "least_loaded"
MODES = (MANUAL, ROUND_ROBIN, LEAST_LOADED)
ONLINE, AWAY, OFFLINE = "online", "away", "offline"
AVAILABILITY = (ONLINE, AWAY, OFFLINE)
#: The statuses in which a conversation occupies its assignee.
LOAD_STATUSES = (states.OPEN, states.ASSIGNED, states.PENDING)


class AssignmentPolicy(Timestamps, TenantBase):
    """How a channel's waiting conversations are assigned; no row means ``manual``."""

    __tablename__ = "assignment_policies"
    __table_args__ = (
        CheckConstraint(f"mode IN ({', '.join(repr(m) for m in MODES)})", name="mode"),
        CheckConstraint("capacity >= 1", name="capacity"),
    )

    channel_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True
    )
    mode: Mapped[str] = mapped_column(String(16), default=MANUAL)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Open conversations per agent, for agents without a capacity of their own.
    capacity: Mapped[int | None] = mapped_column(Integer)
    #: The agent picked last: round robin goes on after them.
    last_assignee_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    @property
    def automatic(self) -> bool:
        return self.enabled and self.mode != MANUAL


class AgentAvailability(Timestamps, TenantBase):
    """An account member's availability in this account; no row means ``offline``."""

    __tablename__ = "agent_availability"
    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s) for s in AVAILABILITY)})", name="status"),
        CheckConstraint("capacity >= 0", name="capacity"),
    )

    #: A member of the account (public schema: no foreign key across).
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default=OFFLINE)
    #: Overrides the channel policies' capacity; 0 keeps automatic assignment away.
    capacity: Mapped[int | None] = mapped_column(Integer)


@dataclass(frozen=True)
class Agent:
    user_id: uuid.UUID
    name: str
    email: str
    status: str
    capacity: int | None
    load: int


def _locked(session: Session, model: type, **key: Any) -> Any:
    """The row with this primary key, locked ``FOR UPDATE``, inserted with its defaults
    first if missing (``ON CONFLICT DO NOTHING``, so two first writers never collide)."""
    session.execute(insert(model).values(**key).on_conflict_do_nothing())
    return session.scalar(
        select(model).filter_by(**key).with_for_update().execution_options(populate_existing=True)
    )


def _plain(row: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {field: getattr(row, field) for field in fields}


def _loads(session: Session, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    rows = session.execute(
        select(Conversation.assignee_id, func.count())
        .where(
            Conversation.assignee_id.in_(list(user_ids)),
            Conversation.status.in_(LOAD_STATUSES),
        )
        .group_by(Conversation.assignee_id)
    )
    return {user_id: count for user_id, count in rows}


# --- policies -------------------------------------------------------------------------


POLICY_FIELDS = ("mode", "enabled", "capacity")


def get_policy(session: Session, channel: Channel) -> AssignmentPolicy:
    """The channel's policy; a channel never configured reads as ``manual`` (not stored)."""
    policy = session.get(AssignmentPolicy, channel.id)
    return policy or AssignmentPolicy(channel_id=channel.id, mode=MANUAL, enabled=True)


def set_policy(
    session: Session,
    channel: Channel,
    *,
    account_id: uuid.UUID,
    actor: Actor,
    mode: str,
    enabled: bool = True,
    capacity: int | None = None,
) -> AssignmentPolicy:
    """Replace the channel's policy; audited, and announced so waiting conversations move."""
    if mode not in MODES:
        raise InvalidField("mode", f"one of {', '.join(MODES)}")
    if capacity is not None and capacity < 1:
        raise InvalidField("capacity", "at least 1, or null for no limit")
    policy = _locked(session, AssignmentPolicy, channel_id=channel.id)
    before = _plain(policy, POLICY_FIELDS)
    policy.mode, policy.enabled, policy.capacity = mode, enabled, capacity
    session.flush()
    old, new = changes(before, _plain(policy, POLICY_FIELDS))
    if new:
        record(
            session,
            actor=actor,
            action="assignment_policy.updated",
            target_type="channel",
            target_id=channel.id,
            before=old,
            after=new,
        )
        emit(
            session,
            account_id=account_id,
            name=names.ASSIGNMENT_POLICY_UPDATED,
            actor=actor,
            subject_type="channel",
            subject_id=channel.id,
            payload={field: [old[field], new[field]] for field in new},
        )
    return policy


# --- agents ---------------------------------------------------------------------------


def list_agents(
    session: Session, *, account_id: uuid.UUID, user_id: uuid.UUID | None = None
) -> list[Agent]:
    """Members of the account (or one of them) with availability, capacity and load."""
    query = (
        select(
            Membership.user_id,
            User.name,
            User.email,
            AgentAvailability.status,
            AgentAvailability.capacity,
        )
        .join(User, User.id == Membership.user_id)
        .outerjoin(AgentAvailability, AgentAvailability.user_id == Membership.user_id)
        .where(Membership.account_id == account_id)
        .order_by(User.name, Membership.user_id)
    )
    if user_id is not None:
        query = query.where(Membership.user_id == user_id)
    rows = session.execute(query).all()
    loads = _loads(session, [row.user_id for row in rows])
    return [
        Agent(
            user_id=row.user_id,
            name=row.name,
            email=row.email,
            status=row.status or OFFLINE,
            capacity=row.capacity,
            load=loads.get(row.user_id, 0),
        )
        for row in rows
    ]


def _change_agent(
    session: Session,
    *,
    account_id: uuid.UUID,
    actor: Actor,
    user_id: uuid.UUID,
    **values: Any,
) -> dict[str, list[Any]]:
    require_member(session, account_id=account_id, user_id=user_id)
    row = _locked(session, AgentAvailability, user_id=user_id)
    before = _plain(row, tuple(values))
    for field, value in values.items():
        setattr(row, field, value)
    session.flush()
    changed = {k: [before[k], v] for k, v in values.items() if before[k] != v}
    if changed:
        emit(
            session,
            account_id=account_id,
            name=names.AGENT_AVAILABILITY_CHANGED,
            actor=actor,
            subject_type="agent",
            subject_id=user_id,
            payload=changed,
        )
    return changed


def set_availability(
    session: Session, *, account_id: uuid.UUID, actor: Actor, user_id: uuid.UUID, status: str
) -> None:
    """Set a member's availability: ``online``, ``away`` or ``offline``.

    The one way availability changes, whoever reports it (the member themselves, or
    presence tracking): automatic assignment reacts to the event it emits.
    """
    if status not in AVAILABILITY:
        raise InvalidField("status", f"one of {', '.join(AVAILABILITY)}")
    _change_agent(session, account_id=account_id, actor=actor, user_id=user_id, status=status)


def set_capacity(
    session: Session,
    *,
    account_id: uuid.UUID,
    actor: Actor,
    user_id: uuid.UUID,
    capacity: int | None,
) -> None:
    """Set (or with None remove) a member's own capacity, over the channel policies'."""
    if capacity is not None and capacity < 0:
        raise InvalidField("capacity", "0 or more, or null to follow the channel policy")
    changed = _change_agent(
        session, account_id=account_id, actor=actor, user_id=user_id, capacity=capacity
    )
    if changed:
        before, after = changed["capacity"]
        record(
            session,
            actor=actor,
            action="agent.capacity_changed",
            target_type="member",
            target_id=user_id,
            before={"capacity": before},
            after={"capacity": after},
        )


# --- picking and assigning ------------------------------------------------------------


def _rotation(members: list[uuid.UUID], last: uuid.UUID | None) -> list[uuid.UUID]:
    """The inbox order, starting just after ``last``."""
    if last not in members:
        return members
    start = members.index(last) + 1
    return members[start:] + members[:start]


def _pick(
    session: Session, policy: AssignmentPolicy, *, account_id: uuid.UUID, mode: str
) -> uuid.UUID | None:
    """The agent ``mode`` picks among the policy's inbox, going on from its last pick,
    with the online agents' rows locked until commit (the module's note on concurrency
    says why that is enough)."""
    agents = inbox_agents(session, policy.channel_id)
    still_members = set(
        session.scalars(
            select(Membership.user_id).where(
                Membership.account_id == account_id, Membership.user_id.in_(agents)
            )
        )
    )
    members = [user_id for user_id in agents if user_id in still_members]
    online = session.scalars(
        select(AgentAvailability)
        .where(AgentAvailability.user_id.in_(members), AgentAvailability.status == ONLINE)
        .order_by(AgentAvailability.user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    loads = _loads(session, [agent.user_id for agent in online])
    eligible = {}
    for agent in online:
        capacity = agent.capacity if agent.capacity is not None else policy.capacity
        load = loads.get(agent.user_id, 0)
        if capacity is None or load < capacity:
            eligible[agent.user_id] = load
    rotation = _rotation(members, policy.last_assignee_id)
    candidates = [user_id for user_id in rotation if user_id in eligible]
    if not candidates:
        return None
    if mode == LEAST_LOADED:
        return min(candidates, key=eligible.__getitem__)  # the first of the least loaded
    return candidates[0]


def _give(
    session: Session,
    conversation: Conversation,
    policy: AssignmentPolicy,
    *,
    account_id: uuid.UUID,
    actor: Actor,
    mode: str,
) -> uuid.UUID | None:
    """Assign to whom ``mode`` picks (the policy row, locked, keeps the rotation's place);
    the assignee, or None when nobody is eligible."""
    chosen = _pick(session, policy, account_id=account_id, mode=mode)
    if chosen is not None:
        policy.last_assignee_id = chosen
        assign(
            session,
            conversation,
            account_id=account_id,
            actor=actor,
            assignee_id=chosen,
            policy=mode,
        )
    return chosen


def auto_assign(
    session: Session, conversation: Conversation, *, account_id: uuid.UUID
) -> uuid.UUID | None:
    """Give a waiting conversation (locked by the caller) to whom its channel's policy
    picks; the assignee, or None when the policy is manual or nobody is eligible."""
    policy = session.scalar(
        select(AssignmentPolicy)
        .where(AssignmentPolicy.channel_id == conversation.channel_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if policy is None or not policy.automatic:
        return None
    who = {"account_id": account_id, "actor": SYSTEM}
    return _give(session, conversation, policy, **who, mode=policy.mode)


def assign_by(
    session: Session, conversation: Conversation, *, account_id: uuid.UUID, actor: Actor, mode: str
) -> uuid.UUID | None:
    """Assign by ``mode`` (round robin or least loaded) among the inbox's available
    agents, whatever the channel's own policy (an automation rule's choice); the
    assignee, or None when nobody is eligible. A channel without a policy row gets a
    manual one, to keep the rotation's place."""
    policy = _locked(session, AssignmentPolicy, channel_id=conversation.channel_id)
    return _give(session, conversation, policy, account_id=account_id, actor=actor, mode=mode)


def _waiting() -> Select:
    return select(Conversation).where(
        Conversation.status == states.OPEN, Conversation.assignee_id.is_(None)
    )


def assign_conversation(account: AccountRecord, conversation_id: uuid.UUID) -> uuid.UUID | None:
    """Offer one conversation to its channel's policy, if it is still waiting (own transaction)."""
    with tenant_session(account) as session:
        conversation = session.scalar(
            _waiting().where(Conversation.id == conversation_id).with_for_update()
        )
        if conversation is None:
            return None
        return auto_assign(session, conversation, account_id=account.id)


def assign_waiting(account: AccountRecord, *, channel_ids: Iterable[uuid.UUID]) -> int:
    """Assign the longest waiting conversations of these channels while anyone eligible is
    left; return how many. One transaction per conversation keeps the locks short.

    Conversations another transaction holds are skipped (``SKIP LOCKED``): whoever holds
    one is assigning it, or changing it and will announce that.
    """
    remaining = set(channel_ids)
    assigned = 0
    while remaining:
        with tenant_session(account) as session:
            conversation = session.scalar(
                _waiting()
                .where(Conversation.channel_id.in_(remaining))
                .order_by(
                    func.coalesce(Conversation.waiting_since, Conversation.created_at),
                    Conversation.created_at,
                    Conversation.id,
                )
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if conversation is None:
                break
            if auto_assign(session, conversation, account_id=account.id) is None:
                remaining.discard(conversation.channel_id)  # nobody there can take more
            else:
                assigned += 1
    return assigned


def assign_waiting_for(account: AccountRecord, user_id: uuid.UUID) -> int:
    """An agent may take more: assign the waiting conversations of their automatic channels."""
    with tenant_session(account) as session:
        channel_ids = list(
            session.scalars(
                select(AssignmentPolicy.channel_id).where(
                    AssignmentPolicy.channel_id.in_(channels_worked_by(user_id)),
                    AssignmentPolicy.enabled.is_(True),
                    AssignmentPolicy.mode != MANUAL,
                )
            )
        )
    return assign_waiting(account, channel_ids=channel_ids)


# --- event consumers ------------------------------------------------------------------


@consumer(names.CONVERSATION_CREATED)
def on_conversation_created(event: Event) -> None:
    account = live_account(event.account_id)
    if account is not None:
        assign_conversation(account, event.subject_id)


@consumer(names.CONVERSATION_STATUS_CHANGED)
def on_status_changed(event: Event) -> None:
    """Open again: offer it. Out of its assignee's load (resolved, closed, snoozed): they
    may take another."""
    before, after = event.payload.get("status", [None, None])
    account = live_account(event.account_id)
    if account is None:
        return
    if after == states.OPEN:
        assign_conversation(account, event.subject_id)
    elif before in LOAD_STATUSES and after not in LOAD_STATUSES:
        with tenant_session(account) as session:
            conversation = session.get(Conversation, event.subject_id)
            assignee_id = conversation.assignee_id if conversation is not None else None
        if assignee_id is not None:
            assign_waiting_for(account, assignee_id)


@consumer(names.CONVERSATION_ASSIGNED)
def on_assigned(event: Event) -> None:
    """A conversation taken from someone (reassigned or unassigned) frees their capacity."""
    previous = event.payload.get("assignee_id", [None, None])[0]
    account = live_account(event.account_id)
    if account is not None and previous is not None:
        assign_waiting_for(account, uuid.UUID(previous))


@consumer(names.AGENT_AVAILABILITY_CHANGED)
def on_availability_changed(event: Event) -> None:
    """Any availability or capacity change may let the agent take more; when it does not,
    the agent is simply not eligible and the pass assigns nothing to them."""
    account = live_account(event.account_id)
    if account is not None:
        assign_waiting_for(account, event.subject_id)


@consumer(names.ASSIGNMENT_POLICY_UPDATED)
def on_policy_updated(event: Event) -> None:
    account = live_account(event.account_id)
    if account is not None:
        assign_waiting(account, channel_ids=[event.subject_id])


@consumer(names.CHANNEL_MEMBER_ADDED)
@consumer(names.TEAM_MEMBER_ADDED)
def on_member_added(event: Event) -> None:
    """Someone new works an inbox (directly or through a team): they may take waiting work."""
    account = live_account(event.account_id)
    if account is not None:
        assign_waiting_for(account, uuid.UUID(event.payload["user_id"]))


@consumer(names.CHANNEL_TEAM_ATTACHED)
def on_team_attached(event: Event) -> None:
    account = live_account(event.account_id)
    if account is not None:
        assign_waiting(account, channel_ids=[event.subject_id])
