"""The SDK's own tests (native, `cd sdk-py && pytest`): the adapter's
shared checks, the random stream, events' audiences, statuses."""

import pytest

from arcade_sdk import (
    Event,
    Game,
    GameInfo,
    GameOver,
    Malformed,
    NotAPlayer,
    Status,
    Viewer,
    export,
    random_below,
    random_u64,
)
from arcade_sdk.testing import Table


class Counter(Game):
    """Anyone adds 1 to 3; the game ends at 5; the config may set `start`."""

    @classmethod
    def info(cls):
        return GameInfo.turn_based("counter", "1.0.0", "count", 1, 3)

    @classmethod
    def create(cls, config, players, seed):
        if config.get("start", 0) < 0:
            raise ValueError("start must be >= 0")
        return cls(players, config.get("start", 0))

    def __init__(self, players, start):
        self.players, self.total, self.status_calls = players, start, 0

    def apply(self, player, action):
        self.total += action["add"]
        return [Event.public("add", action)]

    def view(self, viewer):
        return {"total": self.total, "viewer": viewer.player}

    def status(self):
        self.status_calls += 1
        return Status.winner(self.players[0]) if self.total >= 5 else Status.awaiting(self.players)

    def tick(self, dt_ms):
        self.total += 1
        return []


def test_player_counts_names_and_config_are_checked_before_create():
    for players in ([], ["a", "b", "c", "d"], ["a", "a"], [""]):
        with pytest.raises(ValueError, match="players|player names"):
            Table(Counter, players)
    with pytest.raises(ValueError, match="start must be"):
        Table(Counter, ["a"], config={"start": -1})
    from arcade_sdk._adapter import Room

    with pytest.raises(ValueError, match="invalid config"):
        Room(Counter, "{", ["a"], 1)
    assert Room(Counter, "  ", ["a"], 1).game.total == 0, "an empty config is {}"
    assert Table(Counter, ["a"], config={"start": 3}).view_of("a") == {"total": 3, "viewer": "a"}


def test_strangers_malformed_and_finished_games_are_refused_before_the_rules():
    t = Table(Counter, ["a", "b"])
    with pytest.raises(NotAPlayer):
        t.act("eve", {"add": 1})
    for bad in ["", "{", "nope"]:
        with pytest.raises(Malformed):
            t.act_raw("a", bad)
    t.act("a", {"add": 5})
    assert t.status().winners == ["a"] and t.awaiting() == []
    with pytest.raises(GameOver):
        t.act("b", {"add": 1})
    assert t.game.total == 5
    assert t.tick(50) == [] and t.game.total == 5, "no ticks once finished"


def test_the_status_is_asked_once_per_change():
    t = Table(Counter, ["a"])
    for _ in range(3):
        t.status()
    assert t.game.status_calls == 1
    t.act("a", {"add": 1})
    t.status()
    t.status()
    assert t.game.status_calls == 2


def test_views_are_per_viewer():
    t = Table(Counter, ["a", "b"])
    assert t.view_of("b")["viewer"] == "b"
    assert t.spectator_view()["viewer"] is None


def splitmix64(seed, n):
    mask, state, out = (1 << 64) - 1, seed, []
    for _ in range(n):
        state = (state + 0x9E3779B97F4A7C15) & mask
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        out.append(z ^ (z >> 31))
    return out


def test_each_room_restarts_the_stream_from_its_seed():
    # The reference values of splitmix64 (Vigna's), as the host computes them.
    assert splitmix64(0, 2) == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4]
    for seed in (1, 42, (1 << 64) - 1):
        Table(Counter, ["a"], seed=seed)
        assert [random_u64() for _ in range(5)] == splitmix64(seed, 5)
    Table(Counter, ["a"], seed=42)
    assert random_below(10) == splitmix64(42, 1)[0] % 10


def test_audiences():
    ann, bob, spectator = Viewer.of("ann"), Viewer.of("bob"), Viewer.spectator()
    public, private, others = (
        Event.public("k", 1),
        Event.private("k", 1, ["ann"]),
        Event.all_except("k", 1, ["ann"]),
    )
    assert [public.visible_to(v) for v in (ann, bob, spectator)] == [True, True, True]
    assert [private.visible_to(v) for v in (ann, bob, spectator)] == [True, False, False]
    assert [others.visible_to(v) for v in (ann, bob, spectator)] == [False, True, True]


def test_statuses():
    assert Status.draw().winners == [] and Status.draw().is_finished
    assert Status.awaiting(["a"]).winners is None and not Status.awaiting(["a"]).is_finished
    aborted = Status.aborted("no deck")
    assert aborted.is_finished and aborted.winners is None and aborted.reason == "no deck"
    scored = Status.finished(["a"], {"a": 3, "b": 1}, "a wins 3-1")
    assert [(s.player, s.points) for s in scored.outcome.scores] == [("a", 3), ("b", 1)]


def test_export_takes_one_game_class():
    import arcade_sdk

    with pytest.raises(TypeError):
        export(object)
    arcade_sdk._exported.clear()
    export(Counter)
    assert arcade_sdk.exported_game() is Counter
    export(Counter)
    with pytest.raises(RuntimeError, match="exactly one"):
        arcade_sdk.exported_game()
    arcade_sdk._exported.clear()
