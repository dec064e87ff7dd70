"""Rules tests for the Python tic-tac-toe, run natively: `pytest tic-tac-toe`."""

import pytest

from arcade_sdk import GameOver, Illegal, Malformed, NotAPlayer, NotYourTurn
from arcade_sdk.testing import Table
from game import VERSION, TicTacToe


def table():
    return Table(TicTacToe, ["ann", "bob"], seed=7)


def play(t, cells):
    for i, cell in enumerate(cells):
        t.act("ann" if i % 2 == 0 else "bob", {"cell": cell})


def test_info_describes_the_game():
    info = TicTacToe.info()
    assert (info.name, info.version, info.min_players, info.max_players, info.tick_hz) == (
        "py-tic-tac-toe",
        VERSION,
        2,
        2,
        0,
    )


def test_needs_two_distinct_players():
    for players in (["ann"], ["ann", "bob", "cid"], ["ann", "ann"], ["ann", ""]):
        with pytest.raises(ValueError):
            Table(TicTacToe, players)


def test_first_seat_is_x_and_every_view_is_the_same():
    t = table()
    assert t.awaiting() == ["ann"]
    assert t.spectator_view() == {
        "board": [None] * 9,
        "players": {"X": "ann", "O": "bob"},
        "next": "ann",
        "rules_version": "1.0.0",
    }
    assert t.view_of("ann") == t.view_of("bob") == t.spectator_view()


def test_moves_alternate_and_show_in_the_view():
    t = table()
    events = t.act("ann", {"cell": 4})
    assert [(e.kind, e.data, e.audience.kind) for e in events] == [
        ("move", {"player": "ann", "mark": "X", "cell": 4}, "everyone")
    ]
    t.act("bob", {"cell": 0})
    view = t.spectator_view()
    assert (view["board"][4], view["board"][0], view["next"]) == ("X", "O", "ann")


@pytest.mark.parametrize(
    "cells,winner",
    [([0, 3, 1, 4, 2], "ann"), ([0, 1, 3, 4, 6], "ann"), ([0, 4, 8, 2, 1, 6], "bob"), ([0, 1, 4, 2, 8], "ann")],
)
def test_lines_win(cells, winner):
    t = table()
    play(t, cells)
    assert t.status().winners == [winner]
    assert t.spectator_view()["next"] is None
    assert t.awaiting() == []


def test_full_board_without_a_line_is_a_draw():
    t = table()
    play(t, [0, 1, 2, 4, 3, 5, 7, 6, 8])
    status = t.status()
    assert status.winners == [] and status.outcome.summary == "draw"
    assert t.legal_actions("ann") == [] and t.legal_actions("bob") == []


def test_taken_and_off_board_cells_are_illegal_and_change_nothing():
    t = table()
    t.act("ann", {"cell": 4})
    before = t.spectator_view()
    for cell in (4, 9):
        with pytest.raises(Illegal):
            t.act("bob", {"cell": cell})
    assert t.spectator_view() == before
    assert t.awaiting() == ["bob"]


def test_out_of_turn_strangers_and_malformed_actions_are_refused():
    t = table()
    with pytest.raises(NotYourTurn):
        t.act("bob", {"cell": 0})
    with pytest.raises(NotAPlayer):
        t.act("eve", {"cell": 0})
    for bad in ["", "{", '{"cell": "4"}', '{"cell": -1}', '{"cell": 1.5}', '{"row": 1}', "[4]", "null"]:
        with pytest.raises(Malformed):
            t.act_raw("ann", bad)
    assert t.awaiting() == ["ann"]


def test_no_moves_after_the_game_is_over():
    t = table()
    play(t, [0, 3, 1, 4, 2])
    with pytest.raises(GameOver):
        t.act("bob", {"cell": 5})
    assert t.legal_actions("bob") == []


def test_legal_actions_are_the_empty_cells_of_the_mover():
    t = table()
    t.act("ann", {"cell": 4})
    assert t.legal_actions("ann") == []
    assert t.legal_actions("bob") == [{"cell": c} for c in range(9) if c != 4]
