"""Test fixture: each action misbehaves as it says ({"do": "spin" | "grow" | "open"}), or
keeps `mib` MiB in the room ({"do": "hold", "mib": n}: the memory limit decides)."""
import json
from typing import List

from wit_world.imports import types


class Room:
    def __init__(self, players):
        self.players = players
        self.held = []

    @classmethod
    def create(cls, config: str, players: List[str], seed: int) -> "Room":
        return cls(list(players))

    def apply(self, player: str, action: str) -> List[types.Event]:
        do = json.loads(action)["do"]
        if do == "spin":
            while True:
                pass
        if do == "grow":
            hoard = []
            while True:
                hoard.append(bytearray(1 << 20))
        if do == "hold":
            self.held.append(bytearray(json.loads(action)["mib"] << 20))
            return []
        if do == "open":
            with open("/etc/passwd") as secrets:
                return [types.Event("read", json.dumps({"text": secrets.read()}), types.Audience_Everyone())]
        return []

    def view(self, viewer) -> str:
        return "{}"

    def status(self):
        return types.Status_Awaiting(list(self.players))

    def legal_actions(self, player: str) -> List[str]:
        return []

    def tick(self, dt_ms: int) -> List[types.Event]:
        return []
