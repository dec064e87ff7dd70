"""High-card duel in Python: the Rust example `plugins/high-card-duel`
ported to the Python SDK, with the same deal for the same seed, the same
views and events.

A two-player game of hidden information and simultaneous turns: a 52-card
deck is shuffled with the room's random stream (Fisher-Yates over
``random_below``) and each player is dealt five cards, alternately from the
top. Each round both players secretly play one card; once both have, the
cards are revealed and the higher rank wins the round (suits never decide;
equal ranks: nobody wins it). After five rounds the player with more rounds
won wins; equal is a draw. Action: ``{"play": "<card>"}``, cards written
rank then suit: ``"2C"``, ``"10S"``, ``"QH"``, ``"AD"``.

A player sees their own hand and the card they put down this round; of the
opponent only the hand size and whether they played. Spectators see no
card until it is revealed. Events: ``deal`` (private, delivered with the
first accepted action: ``create`` cannot return events), ``played``
(public: who, never which card), ``round`` and ``game-over`` (public).
"""

from arcade_sdk import Event, Game, GameInfo, Illegal, Malformed, NotAPlayer, NotYourTurn, Status, export, random_below

HAND_SIZE = 5
ROUNDS = HAND_SIZE
SUITS = "CDHS"
RANK_NAMES = {11: "J", 12: "Q", 13: "K", 14: "A"}
RANKS = {**{str(n): n for n in range(2, 11)}, **{name: n for n, name in RANK_NAMES.items()}}


def card_name(card):
    """``(rank, suit)`` written as in JSON: "10S", "QH"."""
    rank, suit = card
    return RANK_NAMES.get(rank, str(rank)) + SUITS[suit]


def parse_card(text):
    """The card ``text`` names, or None. Only canonical names: no "02C"."""
    if not isinstance(text, str) or len(text) < 2 or text[-1] not in SUITS:
        return None
    rank = RANKS.get(text[:-1])
    return None if rank is None else (rank, SUITS.index(text[-1]))


def deck():
    """The 52 cards in a fixed order (by suit, then rank)."""
    return [(rank, suit) for suit in range(4) for rank in range(2, 15)]


@export
class HighCardDuel(Game):
    @classmethod
    def info(cls):
        return GameInfo.turn_based(
            "py-high-card-duel",
            "1.0.0",
            "Five cards each, played face down at the same time: the higher card wins the round (Python).",
            2,
            2,
        )

    @classmethod
    def create(cls, config, players, seed):
        cards = deck()
        for i in range(len(cards) - 1, 0, -1):
            j = random_below(i + 1)
            cards[i], cards[j] = cards[j], cards[i]
        hands = [sorted(cards[0 : 2 * HAND_SIZE : 2]), sorted(cards[1 : 2 * HAND_SIZE : 2])]
        return cls(players, hands)

    def __init__(self, players, hands):
        self.players = list(players)
        self.hands = hands
        self.pending = [None, None]  # cards put down this round, by seat
        self.history = []  # (cards by seat, winning seat or None)
        self.scores = [0, 0]
        self.undelivered = [
            Event.private("deal", {"hand": [card_name(c) for c in hands[s]]}, [self.players[s]]) for s in range(2)
        ]

    def is_over(self):
        return len(self.history) == ROUNDS

    def awaiting_seats(self):
        return [] if self.is_over() else [s for s in range(2) if self.pending[s] is None]

    def winner_seats(self):
        a, b = self.scores
        return [0] if a > b else [1] if b > a else []

    def winners(self):
        return [self.players[s] for s in self.winner_seats()] if self.is_over() else None

    def scores_json(self):
        return {self.players[s]: self.scores[s] for s in range(2)}

    def round_json(self, number, cards, winner):
        return {
            "round": number,
            "cards": {self.players[s]: card_name(cards[s]) for s in range(2)},
            "winner": None if winner is None else self.players[winner],
        }

    def public_seat_json(self, seat):
        return {"name": self.players[seat], "hand_size": len(self.hands[seat]), "played": self.pending[seat] is not None}

    def reveal(self):
        cards = tuple(self.pending)
        ranks = (cards[0][0], cards[1][0])
        winner = 0 if ranks[0] > ranks[1] else 1 if ranks[1] > ranks[0] else None
        if winner is not None:
            self.scores[winner] += 1
        self.pending = [None, None]
        data = self.round_json(len(self.history) + 1, cards, winner)
        data["scores"] = self.scores_json()
        self.history.append((cards, winner))
        events = [Event.public("round", data)]
        if self.is_over():
            events.append(Event.public("game-over", {"winners": self.winners(), "scores": self.scores_json()}))
        return events

    def apply(self, player, action):
        seat = self.players.index(player) if player in self.players else None
        if seat is None:
            raise NotAPlayer()
        if not isinstance(action, dict) or set(action) != {"play"}:
            raise Malformed('expected {"play": "<card>"}')
        card = parse_card(action["play"])
        if card is None:
            raise Malformed(f"{action['play']!r} is not a card (expected e.g. \"2C\", \"10S\", \"QH\", \"AD\")")
        if self.pending[seat] is not None:
            raise NotYourTurn()  # already played this round: waiting for the opponent
        if card not in self.hands[seat]:
            raise Illegal(f"{card_name(card)} is not in your hand")
        self.hands[seat].remove(card)
        self.pending[seat] = card
        events, self.undelivered = self.undelivered, []
        events.append(Event.public("played", {"player": player, "round": len(self.history) + 1}))
        if None not in self.pending:
            events.extend(self.reveal())
        return events

    def view(self, viewer):
        me = self.players.index(viewer.player) if viewer.player in self.players else None
        if me is None:
            view = {"players": [self.public_seat_json(0), self.public_seat_json(1)]}
        else:
            pending = self.pending[me]
            view = {
                "you": self.players[me],
                "hand": [card_name(c) for c in self.hands[me]],
                "pending": None if pending is None else card_name(pending),
                "opponent": self.public_seat_json(1 - me),
            }
        view.update(
            {
                "round": None if self.is_over() else len(self.history) + 1,
                "rounds": ROUNDS,
                "history": [self.round_json(i + 1, cards, w) for i, (cards, w) in enumerate(self.history)],
                "scores": self.scores_json(),
                "awaiting": [self.players[s] for s in self.awaiting_seats()],
                "winners": self.winners(),
            }
        )
        return view

    def status(self):
        if not self.is_over():
            return Status.awaiting([self.players[s] for s in self.awaiting_seats()])
        seats = self.winner_seats()
        if seats:
            w = seats[0]
            summary = f"{self.players[w]} wins {self.scores[w]}-{self.scores[1 - w]}"
        else:
            summary = f"draw {self.scores[0]}-{self.scores[1]}"
        return Status.finished([self.players[s] for s in seats], self.scores_json(), summary)

    def legal_actions(self, player):
        if player not in self.players or self.players.index(player) not in self.awaiting_seats():
            return []
        return [{"play": card_name(c)} for c in self.hands[self.players.index(player)]]
