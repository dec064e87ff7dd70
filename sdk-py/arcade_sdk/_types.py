"""The contract's data types (wit/arcade.wit `types`) as plain Python
values, with the constructors that keep game code short. Nothing here
knows about components: the same values flow through the native test
harness and, converted by ``arcade_sdk.component``, through the host."""

from dataclasses import dataclass, field
from typing import Any, Optional, Tuple


@dataclass(frozen=True)
class GameInfo:
    name: str
    version: str
    description: str
    min_players: int
    max_players: int
    tick_hz: int = 0

    @classmethod
    def turn_based(cls, name, version, description, min_players, max_players):
        return cls(name, version, description, min_players, max_players, 0)

    @classmethod
    def real_time(cls, name, version, description, min_players, max_players, tick_hz):
        return cls(name, version, description, min_players, max_players, tick_hz)


@dataclass(frozen=True)
class Viewer:
    """Whose view to render: a player's, or (``player`` None) a spectator's."""

    player: Optional[str] = None

    @classmethod
    def of(cls, player: str) -> "Viewer":
        return cls(player)

    @classmethod
    def spectator(cls) -> "Viewer":
        return cls(None)

    @property
    def is_spectator(self) -> bool:
        return self.player is None


@dataclass(frozen=True)
class Audience:
    """Who may see an event: ``everyone``, ``only`` the listed players, or
    ``all_except`` them (spectators included)."""

    kind: str = "everyone"
    players: Tuple[str, ...] = ()

    @classmethod
    def everyone(cls) -> "Audience":
        return cls("everyone")

    @classmethod
    def only(cls, players) -> "Audience":
        return cls("only", tuple(players))

    @classmethod
    def all_except(cls, players) -> "Audience":
        return cls("all_except", tuple(players))

    def includes(self, viewer: Viewer) -> bool:
        if self.kind == "everyone":
            return True
        if self.kind == "only":
            return viewer.player is not None and viewer.player in self.players
        return viewer.player is None or viewer.player not in self.players


@dataclass(frozen=True)
class Event:
    """Something that happened; ``data`` is any JSON-able value."""

    kind: str
    data: Any
    audience: Audience = field(default_factory=Audience.everyone)

    @classmethod
    def public(cls, kind: str, data) -> "Event":
        """An event every player and spectator sees."""
        return cls(kind, data, Audience.everyone())

    @classmethod
    def private(cls, kind: str, data, players) -> "Event":
        """An event only ``players`` see (e.g. the cards dealt to one player)."""
        return cls(kind, data, Audience.only(players))

    @classmethod
    def all_except(cls, kind: str, data, players) -> "Event":
        """An event everyone but ``players`` sees."""
        return cls(kind, data, Audience.all_except(players))

    def visible_to(self, viewer: Viewer) -> bool:
        return self.audience.includes(viewer)


@dataclass(frozen=True)
class Score:
    player: str
    points: int


@dataclass(frozen=True)
class Outcome:
    winners: Tuple[str, ...]
    scores: Tuple[Score, ...]
    summary: str


@dataclass(frozen=True)
class Status:
    """``awaiting`` players, ``finished`` with an :class:`Outcome`, or
    ``aborted`` with a reason."""

    state: str
    awaiting_players: Tuple[str, ...] = ()
    outcome: Optional[Outcome] = None
    reason: str = ""

    @classmethod
    def awaiting(cls, players) -> "Status":
        """Running; these players are expected to act next."""
        return cls("awaiting", awaiting_players=tuple(players))

    @classmethod
    def finished(cls, winners, scores=None, summary: str = "") -> "Status":
        """Finished; ``winners`` empty is a draw. ``scores`` maps players to
        points (or is a list of :class:`Score`)."""
        if isinstance(scores, dict):
            scores = [Score(p, points) for p, points in scores.items()]
        return cls("finished", outcome=Outcome(tuple(winners), tuple(scores or ()), summary))

    @classmethod
    def winner(cls, player: str) -> "Status":
        return cls.finished([player], summary=f"{player} wins")

    @classmethod
    def draw(cls) -> "Status":
        return cls.finished([], summary="draw")

    @classmethod
    def aborted(cls, reason: str) -> "Status":
        """The rules gave up on the game."""
        return cls("aborted", reason=reason)

    @property
    def is_finished(self) -> bool:
        return self.state != "awaiting"

    @property
    def winners(self):
        """The winners when finished, None while running or aborted."""
        return list(self.outcome.winners) if self.outcome else None


class ActionError(Exception):
    """Why an action was refused; raise a subclass from ``Game.apply``."""

    code = "action-error"

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message

    def __eq__(self, other):
        return type(self) is type(other) and self.message == other.message

    def __hash__(self):
        return hash((type(self), self.message))

    def __repr__(self):
        return f"{type(self).__name__}({self.message!r})" if self.message else f"{type(self).__name__}()"


class NotYourTurn(ActionError):
    """The player is seated but may not act now."""

    code = "not-your-turn"


class NotAPlayer(ActionError):
    """The name is not one of the room's players."""

    code = "not-a-player"


class GameOver(ActionError):
    """The game has already finished."""

    code = "game-over"


class Malformed(ActionError):
    """The action is not an action of this game (bad JSON or shape)."""

    code = "malformed"


class Illegal(ActionError):
    """A well-formed action the rules forbid in this state."""

    code = "illegal"
