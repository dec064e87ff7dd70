"""Nim for two: 15 stones; take 1 to 3 in turn; whoever takes the last one wins."""
import json
from typing import List
from componentize_py_types import Err
from wit_world.imports import types

class Room:
    def __init__(self, players):
        self.players = players
        self.turn = 0
        self.stones = 15

    @classmethod
    def create(cls, config: str, players: List[str], seed: int) -> "Room":
        return cls(list(players))

    def _next(self):
        return self.players[self.turn] if self.stones > 0 else None

    def apply(self, player: str, action: str) -> List[types.Event]:
        if player not in self.players:
            raise Err(types.ActionError_NotAPlayer())
        if self.stones == 0:
            raise Err(types.ActionError_GameOver())
        if player != self._next():
            raise Err(types.ActionError_NotYourTurn())
        try:
            take = json.loads(action)["take"]
        except Exception as e:
            raise Err(types.ActionError_Malformed(str(e)))
        if not isinstance(take, int) or not 1 <= take <= min(3, self.stones):
            raise Err(types.ActionError_Illegal("take 1 to 3 stones"))
        self.stones -= take
        self.turn = 1 - self.turn
        return [types.Event("take", json.dumps({"player": player, "take": take}), types.Audience_Everyone())]

    def view(self, viewer) -> str:
        return json.dumps({"stones": self.stones, "next": self._next()})

    def status(self):
        n = self._next()
        if n is None:
            return types.Status_Finished(types.Outcome([self.players[1 - self.turn]], [], "took the last stone"))
        return types.Status_Awaiting([n])

    def legal_actions(self, player: str) -> List[str]:
        if player != self._next():
            return []
        return [json.dumps({"take": t}) for t in range(1, min(3, self.stones) + 1)]

    def tick(self, dt_ms: int) -> List[types.Event]:
        return []
