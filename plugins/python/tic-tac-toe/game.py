"""Tic-tac-toe in Python: the Rust example `plugins/tic-tac-toe` ported to
the Python SDK, with the same actions, views and events.

- Two players; ``players[0]`` is X and moves first; no randomness.
- Action: ``{"cell": n}``, ``n`` in 0..8, row-major from the top-left.
- View (the same for everyone): ``{"board": [9 x "X" | "O" | null],
  "players": {"X": name, "O": name}, "next": name | null,
  "rules_version": "1.0.0"}``.
- Events: a public ``"move"`` ``{"player", "mark", "cell"}`` per move.
"""

from arcade_sdk import Event, Game, GameInfo, Illegal, Malformed, NotYourTurn, Status, export

VERSION = "1.0.0"
LINES = [(0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6)]
MARKS = ("X", "O")


@export
class TicTacToe(Game):
    @classmethod
    def info(cls):
        return GameInfo.turn_based("py-tic-tac-toe", VERSION, "Three in a row on a 3x3 grid, in Python.", 2, 2)

    @classmethod
    def create(cls, config, players, seed):
        return cls(players)

    def __init__(self, players):
        self.players = list(players)
        self.board = [None] * 9
        self.next = 0  # the seat whose mark goes next

    def winner(self):
        """The mark with three in a row, or None."""
        for a, b, c in LINES:
            if self.board[a] is not None and self.board[a] == self.board[b] == self.board[c]:
                return self.board[a]
        return None

    def is_over(self):
        return self.winner() is not None or None not in self.board

    def apply(self, player, action):
        if player != self.players[self.next]:
            raise NotYourTurn()
        cell = action.get("cell") if isinstance(action, dict) else None
        if not isinstance(action, dict) or set(action) != {"cell"} or type(cell) is not int or cell < 0:
            raise Malformed('expected {"cell": n} with n in 0..8')
        if cell > 8:
            raise Illegal(f"cell {cell} is off the board (0..=8)")
        if self.board[cell] is not None:
            raise Illegal(f"cell {cell} is taken")
        mark = MARKS[self.next]
        self.board[cell] = mark
        self.next = 1 - self.next
        return [Event.public("move", {"player": player, "mark": mark, "cell": cell})]

    def view(self, viewer):
        status = self.status()
        return {
            "board": self.board,
            "players": {"X": self.players[0], "O": self.players[1]},
            "next": None if status.is_finished else status.awaiting_players[0],
            "rules_version": VERSION,
        }

    def status(self):
        mark = self.winner()
        if mark is not None:
            return Status.winner(self.players[MARKS.index(mark)])
        if None not in self.board:
            return Status.draw()
        return Status.awaiting([self.players[self.next]])

    def legal_actions(self, player):
        if self.is_over() or player != self.players[self.next]:
            return []
        return [{"cell": cell} for cell in range(9) if self.board[cell] is None]
