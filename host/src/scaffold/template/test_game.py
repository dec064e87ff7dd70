"""NAME's rules tests, run natively with `pytest` (no server)."""

import pytest

from arcade_sdk import Illegal, Malformed, NotYourTurn
from arcade_sdk.testing import Table
from game import Nim


def test_taking_the_last_stone_wins():
    table = Table(Nim, ["ann", "bob"], seed=7)
    for player in ["ann", "bob", "ann", "bob", "ann"]:
        table.act(player, {"take": 3})
    assert table.status().winners == ["ann"]
    assert table.view_of("bob") == {"stones": 0, "next": None}


def test_bad_moves_are_refused():
    table = Table(Nim, ["ann", "bob"], seed=7)
    with pytest.raises(NotYourTurn):
        table.act("bob", {"take": 1})
    with pytest.raises(Illegal):
        table.act("ann", {"take": 4})
    with pytest.raises(Malformed):
        table.act("ann", {"take": "all"})
    assert table.legal_actions("ann") == [{"take": 1}, {"take": 2}, {"take": 3}]
