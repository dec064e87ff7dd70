"""Arcade SDK for Python: write a game's rules once, test them with pytest,
and publish them to an Arcade server as a sandboxed WebAssembly component.

A game is a subclass of :class:`Game` in a module named ``game.py``,
marked with :func:`export`::

    from arcade_sdk import Game, GameInfo, Event, Status, Illegal, NotYourTurn, export

    @export
    class CountToTen(Game):
        @classmethod
        def info(cls):
            return GameInfo.turn_based("count-to-ten", "1.0.0", "Reach ten first", 2, 2)

        @classmethod
        def create(cls, config, players, seed):
            return cls(players)

        def __init__(self, players):
            self.players, self.turn, self.total = list(players), 0, 0

        def apply(self, player, action):
            if player != self.players[self.turn]:
                raise NotYourTurn()
            if action.get("add") not in (1, 2):
                raise Illegal("add 1 or 2")
            self.total += action["add"]
            self.turn = 1 - self.turn
            return [Event.public("add", {"player": player, "add": action["add"]})]

        def view(self, viewer):
            return {"total": self.total}

        def status(self):
            if self.total >= 10:
                return Status.winner(self.players[1 - self.turn])
            return Status.awaiting([self.players[self.turn]])

The SDK has already checked, before ``apply`` runs, that the player is
seated and the game is not over, and has parsed the action's JSON (a parse
failure is :class:`Malformed`). Randomness comes from :func:`random_u64`,
seeded by the host from the room seed, so every game replays exactly; the
native test harness (:mod:`arcade_sdk.testing`) draws the same stream.
"""

from ._host import LogLevel, log, random_below, random_u64
from ._types import (
    ActionError,
    Audience,
    Event,
    GameInfo,
    GameOver,
    Illegal,
    Malformed,
    NotAPlayer,
    NotYourTurn,
    Outcome,
    Score,
    Status,
    Viewer,
)

__all__ = [
    "ActionError",
    "Audience",
    "Event",
    "Game",
    "GameInfo",
    "GameOver",
    "Illegal",
    "LogLevel",
    "Malformed",
    "NotAPlayer",
    "NotYourTurn",
    "Outcome",
    "Score",
    "Status",
    "Viewer",
    "export",
    "exported_game",
    "log",
    "random_below",
    "random_u64",
]


class Game:
    """The rules of one game; one instance is one room's state.

    Override ``info``, ``create``, ``apply``, ``view`` and ``status``;
    ``legal_actions`` and ``tick`` are optional.
    """

    @classmethod
    def info(cls) -> GameInfo:
        """Static description: name, version, player counts, tick rate."""
        raise NotImplementedError

    @classmethod
    def create(cls, config, players, seed):
        """Start a game for ``players`` (seat order) with the parsed JSON
        ``config``. Raise ``ValueError`` to refuse the room."""
        raise NotImplementedError

    def apply(self, player, action):
        """Apply one parsed action; a list of :class:`Event`. Raise an
        :class:`ActionError` to refuse it, leaving the state unchanged."""
        raise NotImplementedError

    def view(self, viewer):
        """What ``viewer`` (a :class:`Viewer`) may see, as a JSON-able value.
        Never include another player's secrets."""
        raise NotImplementedError

    def status(self) -> Status:
        """Whose turn it is, or how the game ended."""
        raise NotImplementedError

    def legal_actions(self, player):
        """Legal actions for ``player`` as JSON-able values (hints for bots
        and clients; the conformance check plays them). Default: none."""
        return []

    def tick(self, dt_ms):
        """Advance a real-time game (only called when ``tick_hz`` > 0)."""
        return []


_exported = []


def export(game_class):
    """Mark ``game_class`` as the game this component exports (a decorator;
    once per component)."""
    if not (isinstance(game_class, type) and issubclass(game_class, Game)):
        raise TypeError(f"export takes a Game subclass, not {game_class!r}")
    _exported.append(game_class)
    return game_class


def exported_game():
    """The class marked with :func:`export`."""
    if len(_exported) != 1:
        raise RuntimeError(f"game.py must mark exactly one Game subclass with @export ({len(_exported)} marked)")
    return _exported[0]
