"""The tenant tree is applied per schema by ``flask tenants migrate``, never by ``alembic``.

Running ``alembic upgrade`` here would have no schema to aim at; ``alembic revision``
(which does not execute this file) is how new tenant revisions are written.
"""

raise SystemExit("tenant migrations run through `flask tenants migrate`")
