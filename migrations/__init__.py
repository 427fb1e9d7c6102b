"""Two Alembic trees: ``public`` (registry and identity) and ``tenant`` (every account's schema).

Each tenant schema keeps its own ``alembic_version`` table. Migrations never run inside
``create_app``; ``flask tenants migrate`` (and the dev runner) apply them.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory

HERE = Path(__file__).resolve().parent
PUBLIC_TREE = HERE / "public"
TENANT_TREE = HERE / "tenant"


def alembic_config(tree: Path) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(tree))
    return config


@cache
def script_directory(tree: Path = TENANT_TREE) -> ScriptDirectory:
    """Parsed once per process: loading every revision file is the costly part."""
    return ScriptDirectory.from_config(alembic_config(tree))


def tenant_head(tree: Path = TENANT_TREE) -> str:
    head = script_directory(tree).get_current_head()
    if head is None:
        raise RuntimeError(f"no revisions in {tree}")
    return head
