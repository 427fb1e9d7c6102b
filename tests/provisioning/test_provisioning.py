"""Account provisioning: atomic, race-safe, and producing a schema identical to a migrated one."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid

import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from core.jobs import queue
from core.redis import redis_client
from identity.models import User
from migrations import TENANT_TREE, tenant_head
from provisioning import spares
from provisioning.accounts import SlugTaken, change_status, create_account
from provisioning.ddl import spare_schema_script, tenant_schema_script
from provisioning.fleet import UPGRADED, migrate_tenant
from provisioning.spares import SpareSchema
from tenants.db import TenantBase, db
from tenants.models import Account, AccountStatus, Membership
from tenants.naming import InvalidSchemaName, validate_schema_name
from tenants.registry import GENERATION_KEY
from tests.conftest import unique_email

# --- helpers -------------------------------------------------------------------------------


def tenant_schemas(app) -> set[str]:
    """Every tenant schema in the database, straight from the catalog."""
    with app.app_context(), db.engine.connect() as conn:
        return set(
            conn.scalars(text("SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%'"))
        )


def schema_exists(app, schema: str) -> bool:
    with app.app_context(), db.engine.connect() as conn:
        return bool(
            conn.scalar(text("SELECT count(*) FROM pg_namespace WHERE nspname = :s"), {"s": schema})
        )


def public_rows(app, model, *where) -> list:
    with app.app_context():
        return list(db.session.scalars(select(model).where(*where)))


def signup_body(**overrides) -> dict:
    return {
        "email": unique_email("owner"),
        "password": "correct horse battery",
        "name": "Owner",
        "account_name": "Acme",
        **overrides,
    }


def unique_slug(prefix: str = "co") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# --- the schema ----------------------------------------------------------------------------


def test_provisioned_schema_has_every_tenant_table_at_head(app, account):
    account_id = uuid.UUID(account.account_id)
    with app.app_context():
        row = db.session.get(Account, account_id)
        schema = row.schema_name
        assert schema == f"t_{account_id.hex}"
        assert row.schema_revision == tenant_head()
        with db.engine.connect() as conn:
            tables = set(
                conn.scalars(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema}
                )
            )
            stamped = conn.scalars(text(f'SELECT version_num FROM "{schema}".alembic_version'))
            assert list(stamped) == [tenant_head()]
    assert tables == set(TenantBase.metadata.tables) | {"alembic_version"}


def _catalog(conn, schema: str) -> dict:
    """Everything that makes up a schema's tables, with the schema name taken out."""
    columns = conn.execute(
        text(
            "SELECT table_name, column_name, data_type, character_maximum_length, "
            "is_nullable, column_default FROM information_schema.columns "
            "WHERE table_schema = :s ORDER BY table_name, column_name"
        ),
        {"s": schema},
    ).all()
    constraints = conn.execute(
        text(
            "SELECT cl.relname, c.conname, c.contype, pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid "
            "JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = :s "
            "ORDER BY 1, 2"
        ),
        {"s": schema},
    ).all()
    indexes = conn.execute(
        text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = :s ORDER BY 1"),
        {"s": schema},
    ).all()
    strip = re.compile(re.escape(schema))
    return {
        "columns": [tuple(r) for r in columns],
        "constraints": [tuple(strip.sub("S", str(v)) for v in r) for r in constraints],
        "indexes": [tuple(strip.sub("S", v) for v in r) for r in indexes],
    }


def test_rendered_script_matches_a_schema_migrated_step_by_step(app):
    rendered, migrated = f"t_{uuid.uuid4().hex}", f"t_{uuid.uuid4().hex}"
    with app.app_context():
        try:
            with db.engine.begin() as conn:
                conn.exec_driver_sql(tenant_schema_script(rendered))
                conn.exec_driver_sql(f'CREATE SCHEMA "{migrated}"')
            outcome = migrate_tenant(
                db.engine,
                uuid.uuid4(),
                migrated,
                tree=TENANT_TREE,
                lock_timeout_ms=5000,
            )
            assert outcome.outcome == UPGRADED, outcome.error
            with db.engine.connect() as conn:
                assert _catalog(conn, rendered) == _catalog(conn, migrated)
                assert _catalog(conn, rendered)["columns"]
        finally:
            with db.engine.begin() as conn:
                for schema in (rendered, migrated):
                    conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.mark.parametrize(
    "name",
    [
        'x"; DROP SCHEMA public CASCADE; --',
        't_00000000000000000000000000000000"; DROP SCHEMA public CASCADE; --',
        "t_00000000000000000000000000000000\n",
        "t_0000000000000000000000000000000",
        "t_000000000000000000000000000000000",
        "T_00000000000000000000000000000000",
        "t_0000000000000000000000000000000G",
        "public",
        "pg_catalog",
        "t_",
        "",
    ],
)
def test_schema_names_that_are_not_ours_never_reach_ddl(name):
    with pytest.raises(InvalidSchemaName):
        validate_schema_name(name)
    with pytest.raises(InvalidSchemaName):
        tenant_schema_script(name)


def test_schema_names_come_from_account_ids(app_ctx):
    account = create_account(db.session, name="Named", slug=unique_slug())
    try:
        assert validate_schema_name(account.schema_name) == f"t_{account.id.hex}"
    finally:
        db.session.rollback()


# --- atomicity -----------------------------------------------------------------------------


def test_a_failure_after_the_ddl_leaves_nothing_behind(app):
    """The membership insert fails (no such user) after the schema was created."""
    before = tenant_schemas(app)
    slug, ghost = unique_slug("doomed"), uuid.uuid4()
    with app.app_context():
        with pytest.raises(IntegrityError, match="fk_memberships_user_id_users"):
            create_account(db.session, name="Doomed", slug=slug, owner_id=ghost)
        db.session.rollback()
    assert tenant_schemas(app) == before
    assert public_rows(app, Account, Account.slug == slug) == []
    assert public_rows(app, Membership, Membership.user_id == ghost) == []


@pytest.fixture
def failing_memberships(app):
    """A real trigger that fails the owner's membership of any account named 'Doomed Ltd'."""
    with app.app_context(), db.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE FUNCTION public.turumba_test_fail() RETURNS trigger AS $$ BEGIN "
            "IF (SELECT name FROM public.accounts WHERE id = NEW.account_id) = 'Doomed Ltd' "
            "THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$ "
            "LANGUAGE plpgsql"
        )
        conn.exec_driver_sql(
            "CREATE TRIGGER turumba_test_fail BEFORE INSERT ON public.memberships "
            "FOR EACH ROW EXECUTE FUNCTION public.turumba_test_fail()"
        )
    yield
    with app.app_context(), db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER turumba_test_fail ON public.memberships")
        conn.exec_driver_sql("DROP FUNCTION public.turumba_test_fail()")


def test_service_level_failure_after_the_ddl_rolls_everything_back(app, failing_memberships):
    before = tenant_schemas(app)
    with app.app_context():
        user = User(email=unique_email(), name="U", password_hash="x")
        db.session.add(user)
        db.session.flush()
        with pytest.raises(DBAPIError, match="injected failure"):
            create_account(db.session, name="Doomed Ltd", owner_id=user.id)
        db.session.rollback()
    assert tenant_schemas(app) == before
    assert public_rows(app, Account, Account.name == "Doomed Ltd") == []


def test_a_signup_whose_account_part_fails_leaves_no_user(app, client, failing_memberships):
    before = tenant_schemas(app)
    body = signup_body(account_name="Doomed Ltd")
    response = client.post("/v1/auth/signup", json=body)
    assert response.status_code == 500
    assert response.json["code"] == "internal_error"
    assert tenant_schemas(app) == before
    assert public_rows(app, User, User.email == body["email"]) == []
    assert public_rows(app, Account, Account.name == "Doomed Ltd") == []
    login = client.post("/v1/auth/login", json={"email": body["email"], "password": "x" * 10})
    assert login.status_code == 401
    # The same email is free to sign up again once the account part can succeed.
    again = client.post("/v1/auth/signup", json={**body, "account_name": "Fine Ltd"})
    assert again.status_code == 201


def test_a_signup_with_a_taken_slug_leaves_no_user(app, client):
    slug = unique_slug()
    assert client.post("/v1/auth/signup", json=signup_body(slug=slug)).status_code == 201
    before = tenant_schemas(app)
    body = signup_body(slug=slug)
    clash = client.post("/v1/auth/signup", json=body)
    assert clash.status_code == 409
    assert clash.json["code"] == "slug_taken"
    assert clash.json["errors"]["slug"]
    assert tenant_schemas(app) == before
    assert public_rows(app, User, User.email == body["email"]) == []
    retry = client.post("/v1/auth/signup", json={**body, "slug": unique_slug()})
    assert retry.status_code == 201


# --- slugs and races -----------------------------------------------------------------------


def test_two_signups_racing_for_one_slug_one_wins(app):
    slug = unique_slug("race")
    before = tenant_schemas(app)
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def attempt(index: int) -> None:
        client = app.test_client()
        body = signup_body(slug=slug, account_name=f"Racer {index}")
        barrier.wait(timeout=10)
        results[index] = (body["email"], client.post("/v1/auth/signup", json=body))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    statuses = sorted(response.status_code for _, response in results)
    assert statuses == [201, 409]
    (winner_email, winner), (loser_email, loser) = sorted(
        results, key=lambda item: item[1].status_code
    )
    assert loser.json["code"] == "slug_taken"
    assert "slug" in loser.json["errors"]
    accounts = public_rows(app, Account, Account.slug == slug)
    assert [str(a.id) for a in accounts] == [winner.json["account"]["id"]]
    assert tenant_schemas(app) - before == {accounts[0].schema_name}
    assert public_rows(app, User, User.email == loser_email) == []
    assert len(public_rows(app, User, User.email == winner_email)) == 1


def _interleaved(app, slug_a: str | None, slug_b: str | None, name: str):
    """B provisions while A holds an uncommitted account; A commits while B waits on it."""
    provisioned, outcome = threading.Event(), {}

    def first() -> None:
        with app.app_context(), Session(db.engine) as session:
            outcome["a"] = create_account(session, name=name, slug=slug_a).slug
            provisioned.set()
            time.sleep(0.5)  # B is now blocked on the unique index
            session.commit()

    def second() -> None:
        provisioned.wait(10)
        with app.app_context(), Session(db.engine) as session:
            try:
                outcome["b"] = create_account(session, name=name, slug=slug_b).slug
                session.commit()
            except SlugTaken as exc:
                outcome["b"] = exc
                session.rollback()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcome["a"], outcome["b"]


def test_an_explicit_slug_taken_mid_flight_is_slug_taken(app):
    slug = unique_slug("mid")
    before = tenant_schemas(app)
    first, second = _interleaved(app, slug, slug, "Mid Flight")
    assert first == slug
    assert isinstance(second, SlugTaken) and second.slug == slug
    (account,) = public_rows(app, Account, Account.slug == slug)
    assert tenant_schemas(app) - before == {account.schema_name}


def test_a_derived_slug_taken_mid_flight_gets_another(app):
    name = f"Twin {uuid.uuid4().hex[:8]}"
    first, second = _interleaved(app, None, None, name)
    base = name.lower().replace(" ", "-")
    assert first == base
    assert re.fullmatch(rf"{base}-[0-9a-f]{{6}}", second)


def test_accounts_with_the_same_name_get_distinct_slugs(client):
    name = f"Same Name {uuid.uuid4().hex[:6]}"
    first = client.post("/v1/auth/signup", json=signup_body(account_name=name))
    second = client.post("/v1/auth/signup", json=signup_body(account_name=name))
    assert first.status_code == second.status_code == 201
    slugs = first.json["account"]["slug"], second.json["account"]["slug"]
    assert slugs[0] != slugs[1]
    assert slugs[1].startswith(slugs[0] + "-")


@pytest.mark.parametrize(
    "slug", ["Upper", "with space", "-lead", "trail-", "under_score", "ünï", "a" * 64, ""]
)
def test_invalid_slugs_are_422_naming_slug(app, client, slug):
    body = signup_body(slug=slug)
    response = client.post("/v1/auth/signup", json=body)
    assert response.status_code == 422
    assert response.json["code"] == "validation_failed"
    assert list(response.json["errors"]) == ["slug"]
    assert public_rows(app, User, User.email == body["email"]) == []


def test_invalid_slug_for_another_account_is_422(client, account, verify_email):
    verify_email(account)
    response = client.post(
        "/v1/accounts", json={"name": "Second", "slug": "Not Valid"}, headers=account.headers
    )
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["slug"]


# --- the registry cache --------------------------------------------------------------------


def test_a_suspension_by_another_app_is_seen_at_once(make_app, account):
    # A TTL far longer than the test: only the Redis generation can explain a fresh view.
    first = make_app(registry_ttl=3600)
    client = first.test_client()
    url = account.url("/contacts")
    assert client.get(url, headers=account.headers).status_code == 200  # now cached
    second = make_app(registry_ttl=3600)

    def change_elsewhere(target: AccountStatus) -> None:
        with second.app_context():
            row = db.session.get(Account, uuid.UUID(account.account_id))
            change_status(db.session, row, target)
            db.session.commit()

    change_elsewhere(AccountStatus.SUSPENDED)
    response = client.get(url, headers=account.headers)
    assert response.status_code == 403
    assert response.json["code"] == "account_suspended"
    change_elsewhere(AccountStatus.ACTIVE)
    assert client.get(url, headers=account.headers).status_code == 200


def test_a_rolled_back_status_change_announces_nothing(app, account):
    with app.app_context():
        redis = app.extensions["turumba.redis"]
        generation = redis.get(GENERATION_KEY)
        row = db.session.get(Account, uuid.UUID(account.account_id))
        change_status(db.session, row, AccountStatus.SUSPENDED)
        db.session.rollback()
        assert redis.get(GENERATION_KEY) == generation
        assert db.session.get(Account, row.id).status is AccountStatus.ACTIVE


# --- the spare-schema pool -----------------------------------------------------------------


def spare_schemas(app) -> set[str]:
    with app.app_context(), db.engine.connect() as conn:
        return set(
            conn.scalars(text("SELECT nspname FROM pg_namespace WHERE nspname LIKE 's\\_%'"))
        )


def pool(app) -> list[SpareSchema]:
    with app.app_context():
        return list(db.session.scalars(select(SpareSchema).order_by(SpareSchema.created_at)))


def replenish_jobs(app) -> list:
    with app.app_context():
        return [
            job
            for job in queue(spares.QUEUE).get_jobs()
            if job.func_name == "provisioning.spares.replenish"
        ]


def run_worker(app) -> None:
    """A real RQ worker, in-process, on the real Redis, until the queue is empty."""
    with app.app_context():
        SimpleWorker(
            [queue(spares.QUEUE)], connection=redis_client(), serializer=JSONSerializer
        ).work(burst=True, logging_level="WARNING")


@pytest.fixture
def spare_pool(app):
    """Fill the pool with ``n`` spares; empty it (and its pending refills) afterwards."""

    def make(n: int) -> list[str]:
        with app.app_context():
            spares.fill(db.engine, n)
        return [spare.name for spare in pool(app)]

    yield make
    for job in replenish_jobs(app):
        job.delete()
    with app.app_context():
        spares.fill(db.engine, 0)
    assert spare_schemas(app) == set()


def test_cli_fills_and_shrinks_the_pool(app, spare_pool):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tenants", "spares", "--fill", "3"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[-1]) == {
        "head": tenant_head(),
        "available": 3,
        "stale": 0,
    }
    names = {spare.name for spare in pool(app)}
    assert spare_schemas(app) == names
    assert all(re.fullmatch(r"s_[0-9a-f]{32}", name) for name in names)
    with app.app_context(), db.engine.connect() as conn:
        name = sorted(names)[0]
        stamped = conn.scalar(text(f'SELECT version_num FROM "{name}".alembic_version'))
        assert stamped == tenant_head()
    result = runner.invoke(args=["tenants", "spares", "--fill", "1"])
    assert json.loads(result.stdout.splitlines()[-1])["available"] == 1
    assert len(spare_schemas(app)) == 1
    result = runner.invoke(args=["tenants", "spares"])
    assert json.loads(result.output)["available"] == 1
    assert runner.invoke(args=["tenants", "spares", "--fill", "-1"]).exit_code == 2


def test_signup_claims_a_spare_and_a_worker_replaces_it(app, client, spare_pool):
    (spare,) = spare_pool(1)
    response = client.post("/v1/auth/signup", json=signup_body())
    assert response.status_code == 201
    account_id = uuid.UUID(response.json["account"]["id"])
    schema = f"t_{account_id.hex}"
    assert spare_schemas(app) == set()
    assert pool(app) == []
    assert schema_exists(app, schema)
    rendered = f"t_{uuid.uuid4().hex}"
    with app.app_context():
        with db.engine.begin() as conn:
            conn.exec_driver_sql(tenant_schema_script(rendered))
        try:
            with db.engine.connect() as conn:
                stamped = conn.scalar(text(f'SELECT version_num FROM "{schema}".alembic_version'))
                assert stamped == tenant_head()
                assert _catalog(conn, schema) == _catalog(conn, rendered)
        finally:
            with db.engine.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{rendered}" CASCADE')
        assert db.session.get(Account, account_id).schema_revision == tenant_head()
    # The tenant works like any other.
    token = {"Authorization": f"Bearer {response.json['access_token']}"}
    made = client.post(f"/v1/accounts/{account_id}/contacts", json={"name": "First"}, headers=token)
    assert made.status_code == 201

    assert len(replenish_jobs(app)) == 1
    run_worker(app)
    (replacement,) = pool(app)
    assert replacement.name != spare
    assert replacement.revision == tenant_head()
    assert spare_schemas(app) == {replacement.name}


def test_a_rolled_back_signup_puts_the_spare_back(app, client, spare_pool, failing_memberships):
    spare_pool(1)
    before = pool(app)
    response = client.post("/v1/auth/signup", json=signup_body(account_name="Doomed Ltd"))
    assert response.status_code == 500
    assert [s.name for s in pool(app)] == [s.name for s in before]
    assert spare_schemas(app) == {before[0].name}
    assert replenish_jobs(app) == []


def test_concurrent_claims_never_wait_for_each_other(app, spare_pool):
    spare_pool(2)
    with app.app_context():
        sessions = [Session(db.engine) for _ in range(3)]
        try:
            for session in sessions:
                # Any wait on a row lock would now be an error, not a stall.
                session.connection().exec_driver_sql("SET LOCAL lock_timeout = '200ms'")
            schemas = [
                create_account(session, name="Claimer", slug=unique_slug()).schema_name
                for session in sessions
            ]
            # Each claim skipped the spares the open transactions before it had locked:
            # two took one each, the third found none free and rendered the script.
            for session in sessions:
                session.commit()
        finally:
            for session in sessions:
                session.close()
    assert pool(app) == []
    assert spare_schemas(app) == set()
    assert all(schema_exists(app, schema) for schema in schemas)
    assert len(replenish_jobs(app)) == 2  # one per claim


def test_stale_spares_are_never_claimed_and_are_replaced(app, client, spare_pool):
    (stale,) = spare_pool(1)
    with app.app_context():
        db.session.execute(
            update(SpareSchema).where(SpareSchema.name == stale).values(revision="t0000")
        )
        db.session.commit()
    assert client.post("/v1/auth/signup", json=signup_body()).status_code == 201
    assert [s.name for s in pool(app)] == [stale]
    assert replenish_jobs(app) == []
    with app.app_context():
        assert spares.status(db.engine) == spares.PoolStatus(tenant_head(), 0, 1)
        result = spares.fill(db.engine, 1)
    assert (result.created, result.dropped, result.available) == (1, 1, 1)
    (fresh,) = pool(app)
    assert fresh.revision == tenant_head()
    assert spare_schemas(app) == {fresh.name}


def test_provisioning_can_skip_the_pool(app, spare_pool):
    spare_pool(1)
    with app.app_context():
        account = create_account(db.session, name="Direct", slug=unique_slug(), use_spares=False)
        db.session.commit()
        assert schema_exists(app, account.schema_name)
    assert len(pool(app)) == 1


@pytest.mark.parametrize("name", ["s_x", "t_00000000000000000000000000000000", 's_"; --'])
def test_spare_names_that_are_not_ours_never_reach_ddl(name):
    with pytest.raises(InvalidSchemaName):
        spare_schema_script(name)
    with pytest.raises(InvalidSchemaName):
        spares.validate_spare_name(name)


def test_a_spare_dropped_by_hand_is_passed_over_and_repaired(app, client, spare_pool):
    dangling, good = spare_pool(2)  # the oldest would be claimed first
    orphan = spares.new_spare_name()
    with app.app_context(), db.engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{dangling}" CASCADE')
        conn.exec_driver_sql(f'CREATE SCHEMA "{orphan}"')
    response = client.post("/v1/auth/signup", json=signup_body())
    assert response.status_code == 201
    assert [s.name for s in pool(app)] == [dangling]  # the good one was taken
    with app.app_context():
        result = spares.fill(db.engine, 1)
    assert (result.dropped, result.created, result.available) == (2, 1, 1)
    (fresh,) = pool(app)
    assert spare_schemas(app) == {fresh.name}
    assert good not in spare_schemas(app)
