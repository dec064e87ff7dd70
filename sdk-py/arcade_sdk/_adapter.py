"""One room of a :class:`~arcade_sdk.Game`: JSON in and out, and the checks
every game shares (player count, seated player, game over). The component
export and the native test harness both drive rooms through this class,
so a pytest run predicts what a server does."""

import json

from . import _host
from ._types import GameOver, Malformed, NotAPlayer, Status, Viewer


def to_json(value) -> str:
    """Compact, NaN-free JSON: what the host accepts as a view or event data."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


class Room:
    def __init__(self, game_class, config: str, players, seed: int):
        info = game_class.info()
        players = list(players)
        if not info.min_players <= len(players) <= info.max_players:
            raise ValueError(
                f"{info.name} needs {info.min_players}..={info.max_players} players, got {len(players)}"
            )
        for i, p in enumerate(players):
            if not p or p in players[:i]:
                raise ValueError(f"player names must be non-empty and distinct, got {p!r}")
        try:
            parsed = json.loads(config if config.strip() else "{}")
        except ValueError as e:
            raise ValueError(f"invalid config: {e}") from None
        _host._seed(seed)
        self.players = players
        self.game = game_class.create(parsed, list(players), seed)
        # game.status() since the last change: the host asks for the status
        # after every action, and the next action's game-over check reuses it.
        self._status = None

    def status(self) -> Status:
        if self._status is None:
            self._status = self.game.status()
        return self._status

    def apply(self, player: str, action: str):
        if player not in self.players:
            raise NotAPlayer()
        if self.status().is_finished:
            raise GameOver()
        try:
            parsed = json.loads(action)
        except ValueError as e:
            raise Malformed(str(e)) from None
        events = self.game.apply(player, parsed)
        self._status = None
        return list(events)

    def view(self, viewer: Viewer) -> str:
        return to_json(self.game.view(viewer))

    def legal_actions(self, player: str):
        return [to_json(a) for a in self.game.legal_actions(player)]

    def tick(self, dt_ms: int):
        if self.status().is_finished:
            return []
        self._status = None
        return list(self.game.tick(dt_ms))
