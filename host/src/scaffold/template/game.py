"""NAME: Nim for two. 15 stones; each turn a player takes 1, 2 or 3; whoever
takes the last stone wins. Start here: change the rules, keep the tests
passing (`pytest`), then build and publish (see README.md).

Action: {"take": 1 | 2 | 3}. View: {"stones": n, "next": player | null}.
"""

from arcade_sdk import Event, Game, GameInfo, Illegal, Malformed, NotYourTurn, Status, export

STONES = 15


@export
class Nim(Game):
    @classmethod
    def info(cls):
        return GameInfo.turn_based("NAME", "0.1.0", "Take 1-3 stones; taking the last one wins", 2, 2)

    @classmethod
    def create(cls, config, players, seed):
        return cls(players)

    def __init__(self, players):
        self.players = players
        self.turn = 0
        self.stones = STONES

    def next(self):
        return self.players[self.turn] if self.stones > 0 else None

    def apply(self, player, action):
        if player != self.next():
            raise NotYourTurn()
        take = action.get("take") if isinstance(action, dict) else None
        if type(take) is not int:
            raise Malformed('expected {"take": n}')
        if not 1 <= take <= min(3, self.stones):
            raise Illegal("take 1 to 3 stones, no more than are left")
        self.stones -= take
        self.turn = 1 - self.turn
        return [Event.public("take", {"player": player, "take": take})]

    def view(self, viewer):
        return {"stones": self.stones, "next": self.next()}

    def status(self):
        if self.next() is None:
            # The player who took the last stone moved just before the turn passed.
            return Status.winner(self.players[1 - self.turn])
        return Status.awaiting([self.next()])

    def legal_actions(self, player):
        if player != self.next():
            return []
        return [{"take": n} for n in range(1, min(3, self.stones) + 1)]
