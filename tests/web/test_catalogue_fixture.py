"""The designer's unit tests run against a copy of the server's field catalogue
(``web/src/pages/automation/catalogue.fixture.json``): the copy must be the catalogue the
API serves, or those tests prove the builder against a catalogue that no longer exists."""

from __future__ import annotations

import json

from automation.catalogue import OPERATORS
from core import console

FIXTURE = console.WEB / "src" / "pages" / "automation" / "catalogue.fixture.json"


def test_the_designers_copy_of_the_catalogue_is_the_served_one(client, account):
    copy = json.loads(FIXTURE.read_text())
    served = client.get(account.url("/automation/fields"), headers=account.headers)
    assert served.status_code == 200, served.json
    assert {key: value for key, value in copy.items() if not key.startswith("_")} == served.json
    assert copy["_operators_by_type"] == {kind: list(ops) for kind, ops in OPERATORS.items()}
