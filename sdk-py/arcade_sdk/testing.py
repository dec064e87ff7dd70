"""A native test harness: play a game under pytest without a server.

:class:`Table` runs the same code path as the component export (config
parsing, seat and game-over checks, JSON actions and views) and the same
random stream as the host::

    from arcade_sdk.testing import Table
    from game import CountToTen

    def test_ann_reaches_ten():
        table = Table(CountToTen, ["ann", "bob"], seed=1)
        for who in ["ann", "bob", "ann", "bob", "ann"]:
            table.act(who, {"add": 2})
        assert table.status().winners == ["ann"]
"""

import json

from ._adapter import Room, to_json
from ._types import Status, Viewer


class Table:
    """One room of ``game_class``, driven directly. Raises ``ValueError``
    when the game refuses to start."""

    def __init__(self, game_class, players, seed: int = 1, config=None):
        self.room = Room(game_class, to_json({} if config is None else config), players, seed)

    @property
    def game(self):
        """The game object itself, to inspect its state."""
        return self.room.game

    def act(self, player: str, action):
        """Apply an action given as a JSON-able value; its events. Raises the
        :class:`~arcade_sdk.ActionError` the rules (or the SDK) refused it with."""
        return self.act_raw(player, to_json(action))

    def act_raw(self, player: str, action: str):
        """Apply an action given as raw text (to test malformed input)."""
        return self.room.apply(player, action)

    def view_of(self, player: str):
        """``player``'s view, parsed back from its JSON."""
        return json.loads(self.room.view(Viewer.of(player)))

    def spectator_view(self):
        return json.loads(self.room.view(Viewer.spectator()))

    def status(self) -> Status:
        return self.room.status()

    def legal_actions(self, player: str):
        return [json.loads(a) for a in self.room.legal_actions(player)]

    def tick(self, dt_ms: int):
        return self.room.tick(dt_ms)

    def awaiting(self):
        """The players the game waits for (empty when finished)."""
        status = self.status()
        return [] if status.is_finished else list(status.awaiting_players)
