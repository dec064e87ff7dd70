"""The component side: the ``arcade:game/rules`` export for the game
``game.py`` marks with :func:`arcade_sdk.export`, converting between the
SDK's values and the bindings componentize-py generates from the WIT.
Only imported inside a component (``glue/app.py`` and ``glue/rules.py``);
the bindings do not exist in plain CPython."""

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import host, types

import game  # noqa: F401 -- the designer's rules; importing it runs @export

from . import _adapter, _host, exported_game
from ._host import LogLevel
from ._types import ActionError, Audience, Viewer

_GAME = exported_game()

_LEVELS = {
    LogLevel.DEBUG: host.LogLevel.DEBUG,
    LogLevel.INFO: host.LogLevel.INFO,
    LogLevel.WARN: host.LogLevel.WARN,
    LogLevel.ERROR: host.LogLevel.ERROR,
}


class _HostServices:
    """Random and log from the host; it seeds the stream itself."""

    def seed(self, seed):
        pass

    def random_u64(self):
        return host.random_u64()

    def log(self, level, message):
        host.log(_LEVELS[level], message)


_host._install(_HostServices())

_ERRORS = {
    "not-your-turn": lambda e: types.ActionError_NotYourTurn(),
    "not-a-player": lambda e: types.ActionError_NotAPlayer(),
    "game-over": lambda e: types.ActionError_GameOver(),
    "malformed": lambda e: types.ActionError_Malformed(e.message),
    "illegal": lambda e: types.ActionError_Illegal(e.message),
}


def _audience(audience: Audience):
    if audience.kind == "only":
        return types.Audience_Only(list(audience.players))
    if audience.kind == "all_except":
        return types.Audience_AllExcept(list(audience.players))
    return types.Audience_Everyone()


def _events(events):
    return [types.Event(e.kind, _adapter.to_json(e.data), _audience(e.audience)) for e in events]


def _status(status):
    if status.state == "awaiting":
        return types.Status_Awaiting(list(status.awaiting_players))
    if status.state == "aborted":
        return types.Status_Aborted(status.reason)
    o = status.outcome
    scores = [types.Score(s.player, s.points) for s in o.scores]
    return types.Status_Finished(types.Outcome(list(o.winners), scores, o.summary))


class Rules(exports.Rules):
    def info(self) -> types.GameInfo:
        i = _GAME.info()
        return types.GameInfo(i.name, i.version, i.description, i.min_players, i.max_players, i.tick_hz)


class Room:
    """The exported room resource."""

    def __init__(self, room):
        self.room = room

    @classmethod
    def create(cls, config, players, seed):
        try:
            return cls(_adapter.Room(_GAME, config, players, seed))
        except ValueError as e:
            raise Err(str(e)) from None

    def apply(self, player, action):
        try:
            return _events(self.room.apply(player, action))
        except ActionError as e:
            raise Err(_ERRORS[e.code](e)) from None

    def view(self, viewer):
        who = viewer.value if isinstance(viewer, types.Viewer_Player) else None
        return self.room.view(Viewer(who))

    def status(self):
        return _status(self.room.status())

    def legal_actions(self, player):
        return self.room.legal_actions(player)

    def tick(self, dt_ms):
        return _events(self.room.tick(dt_ms))
