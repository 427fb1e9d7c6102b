"""The lifecycle table itself: every status known, closed final, resolved reopenable."""

from __future__ import annotations

import pytest

from helpdesk import states


def test_the_table_names_only_known_statuses():
    assert set(states.TRANSITIONS) == set(states.STATUSES)
    for targets in states.TRANSITIONS.values():
        assert set(targets) <= set(states.STATUSES)


def test_closed_is_final_and_resolved_reopens():
    assert states.allowed_from("closed") == ()
    assert "open" in states.allowed_from("resolved")


@pytest.mark.parametrize("status", states.STATUSES)
def test_staying_put_is_not_a_transition(status):
    with pytest.raises(states.IllegalTransition) as raised:
        states.check(status, status)
    assert raised.value.allowed == states.TRANSITIONS[status]
