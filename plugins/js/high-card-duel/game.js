// # High-card duel, in JavaScript
//
// A two-player game of hidden information and simultaneous turns, a port of
// the Rust plugin `plugins/high-card-duel` with the JavaScript SDK
// (`sdk-js`): for the same seed it deals the same cards.
//
// - A 52-card deck is shuffled with the room's seeded random stream
//   (Fisher-Yates over `randomBelow`) and each player is dealt `HAND_SIZE`
//   cards, alternately from the top.
// - Each round both players secretly play one card from their hand. The
//   round is simultaneous: the status awaits every player who has not played
//   yet this round, in any order. Once both have played, both cards are
//   revealed and the higher rank wins the round (suits do not matter; equal
//   ranks: nobody wins it).
// - After `ROUNDS` rounds the player who won more rounds wins; equal round
//   wins is a draw. Scores are rounds won.
// - Action: `{"play": "<card>"}`, cards written rank then suit: `"2C"`,
//   `"10S"`, `"QH"`, `"AD"` (ranks 2-10, J, Q, K, A; suits C, D, H, S).
//
// ## What each viewer may see
//
// A player sees their own hand and the card they have put down this round,
// but of the opponent only the hand size and *whether* they have played.
// Spectators see no cards at all until they are revealed. Everyone sees the
// revealed history and the scores. Player view:
//
//     { "you": "ann", "hand": ["3C", "QH"], "pending": "10S",
//       "opponent": { "name": "bob", "hand_size": 3, "played": false },
//       "round": 3, "rounds": 5, "history": [ROUND...], "scores": {"ann": 1, "bob": 1},
//       "awaiting": ["bob"], "winners": null }
//
// Spectator view: `{"players": [{"name", "hand_size", "played"}, ...],
// "round", "rounds", "history", "scores", "awaiting", "winners"}`.
// A history entry (ROUND) is `{"round": 1, "cards": {"ann": "QH", "bob": "3C"},
// "winner": "ann" | null}`; `round` is `null` and `winners` a list once the
// game is over.
//
// ## Events
//
// - `"deal"` `{"hand": [...]}`: private to each player. `create` cannot
//   return events in the plugin contract, so the two deal events are queued
//   and delivered ahead of the events of the first accepted action.
// - `"played"` `{"player", "round"}`: public; says who put a card down, never
//   which card.
// - `"round"` `{"round", "cards", "winner", "scores"}`: public, when both
//   cards are revealed.
// - `"game-over"` `{"winners", "scores"}`: public, after the last round.
//
// Build: `node sdk-js/bin/build.mjs plugins/js/high-card-duel/game.js -o duel.wasm`.
// Outside this repository, import from 'arcade-sdk' instead of the path.

import { Event, Game, GameInfo, Illegal, Malformed, NotAPlayer, NotYourTurn, Status, randomBelow } from '../../../sdk-js/src/index.js';

/** Cards dealt to each player. */
export const HAND_SIZE = 5;
/** Rounds in a game: every card of a hand is played. */
export const ROUNDS = HAND_SIZE;

/** Suits in order; they never decide a round, they only tell cards apart. */
export const SUITS = ['C', 'D', 'H', 'S'];
const RANK_NAMES = { 11: 'J', 12: 'Q', 13: 'K', 14: 'A' };
const RANK_OF = { J: 11, Q: 12, K: 13, A: 14 };

/** A card: `rank` 2..=14 (11 = J, 12 = Q, 13 = K, 14 = A) and `suit` (C, D, H, S); JSON text like "10S". */
export function cardText({ rank, suit }) {
  return `${RANK_NAMES[rank] ?? rank}${suit}`;
}

/** Only canonical card texts: "2".."10", J, Q, K, A, then C, D, H or S (no "02", "+5", "qh"). */
const CARD = /^(10|[2-9]|[JQKA])([CDHS])$/;

/** The card written `text`, or an Error saying why not. */
export function parseCard(text) {
  const m = typeof text === 'string' ? CARD.exec(text) : null;
  if (m === null) {
    throw new Error(`${JSON.stringify(text)} is not a card (expected e.g. "2C", "10S", "QH", "AD")`);
  }
  return { rank: RANK_OF[m[1]] ?? Number(m[1]), suit: m[2] };
}

/** Cards sort by rank, then suit (as the Rust `Card`'s derived order). */
export function compareCards(a, b) {
  const x = parseCard(a);
  const y = parseCard(b);
  return x.rank - y.rank || SUITS.indexOf(x.suit) - SUITS.indexOf(y.suit);
}

/** The 52 card texts in a fixed order (by suit, then rank), the order the shuffle starts from. */
export function deck() {
  const cards = [];
  for (const suit of SUITS) {
    for (let rank = 2; rank <= 14; rank++) cards.push(cardText({ rank, suit }));
  }
  return cards;
}

/** The card of a `{"play": "<card>"}` action, or `Malformed` (as serde refuses the Rust action). */
function parsePlay(action) {
  if (action === null || typeof action !== 'object' || Array.isArray(action)) {
    throw new Malformed('expected an action {"play": "<card>"}');
  }
  for (const key of Object.keys(action)) {
    if (key !== 'play') throw new Malformed(`unknown field "${key}", expected "play"`);
  }
  if (!('play' in action)) throw new Malformed('missing field "play"');
  try {
    parseCard(action.play);
  } catch (e) {
    throw new Malformed(e.message);
  }
  return action.play;
}

/** The seat (0 or 1) holding the larger value, null when they are equal. */
function larger(first, second) {
  return first > second ? 0 : first < second ? 1 : null;
}

export default class HighCardDuel extends Game {
  static info() {
    return GameInfo.turnBased(
      'js-high-card-duel',
      '1.0.0',
      'Five cards each, played face down at the same time: the higher card wins the round (JavaScript).',
      2,
      2,
    );
  }

  static create(config, players, seed) {
    if (config === null || typeof config !== 'object' || Array.isArray(config)) {
      throw new Error('invalid config: expected a JSON object');
    }
    if (players.length !== 2) {
      throw new Error(`high-card-duel needs exactly 2 players, got ${players.length}`);
    }
    // Fisher-Yates with the room's random stream: replays deal the same cards.
    const cards = deck();
    for (let i = cards.length - 1; i >= 1; i--) {
      const j = randomBelow(i + 1);
      [cards[i], cards[j]] = [cards[j], cards[i]];
    }
    const hands = [[], []];
    cards.slice(0, 2 * HAND_SIZE).forEach((card, i) => hands[i % 2].push(card));
    hands.forEach((h) => h.sort(compareCards));
    return new HighCardDuel(players, hands);
  }

  constructor(players, hands) {
    super();
    this.players = [...players];
    /** Cards still in hand, by seat, sorted. */
    this.hands = hands;
    /** Cards put down this round and not yet revealed, by seat. */
    this.pending = [null, null];
    /** Revealed rounds: `{cards: [card by seat], winner: seat | null}`. */
    this.history = [];
    /** Rounds won, by seat. */
    this.scores = [0, 0];
    /** The private deal events, delivered with the first accepted action. */
    this.undelivered = [0, 1].map((s) => Event.private('deal', { hand: hands[s] }, [this.players[s]]));
  }

  seatOf(player) {
    const seat = this.players.indexOf(player);
    return seat < 0 ? null : seat;
  }

  isOver() {
    return this.history.length === ROUNDS;
  }

  /** 1-based number of the round being played, null once the game is over. */
  currentRound() {
    return this.isOver() ? null : this.history.length + 1;
  }

  /** Seats that still have to play this round. */
  awaitingSeats() {
    return this.isOver() ? [] : [0, 1].filter((s) => this.pending[s] === null);
  }

  awaitingNames() {
    return this.awaitingSeats().map((s) => this.players[s]);
  }

  /** The seat with more rounds won, none on equal scores. */
  winnerSeats() {
    const seat = larger(this.scores[0], this.scores[1]);
    return seat === null ? [] : [seat];
  }

  winners() {
    return this.isOver() ? this.winnerSeats().map((s) => this.players[s]) : null;
  }

  scoresJson() {
    return Object.fromEntries(this.players.map((p, s) => [p, this.scores[s]]));
  }

  roundJson(number, round) {
    return {
      round: number,
      cards: Object.fromEntries(this.players.map((p, s) => [p, round.cards[s]])),
      winner: round.winner === null ? null : this.players[round.winner],
    };
  }

  historyJson() {
    return this.history.map((r, i) => this.roundJson(i + 1, r));
  }

  /** What anyone may know about `seat`: name, hand size, whether they played. */
  publicSeatJson(seat) {
    return { name: this.players[seat], hand_size: this.hands[seat].length, played: this.pending[seat] !== null };
  }

  /** Reveal both pending cards, score the round and describe it. */
  reveal(cards) {
    const winner = larger(parseCard(cards[0]).rank, parseCard(cards[1]).rank);
    if (winner !== null) this.scores[winner] += 1;
    this.pending = [null, null];
    const round = { cards, winner };
    const data = { ...this.roundJson(this.history.length + 1, round), scores: this.scoresJson() };
    this.history.push(round);

    const events = [Event.public('round', data)];
    const winners = this.winners();
    if (winners !== null) events.push(Event.public('game-over', { winners, scores: this.scoresJson() }));
    return events;
  }

  apply(player, action) {
    const card = parsePlay(action);
    const seat = this.seatOf(player);
    if (seat === null) throw new NotAPlayer();
    if (this.pending[seat] !== null) {
      // Already played this round: waiting for the opponent.
      throw new NotYourTurn();
    }
    const index = this.hands[seat].indexOf(card);
    if (index < 0) throw new Illegal(`${card} is not in your hand`);

    this.hands[seat].splice(index, 1);
    this.pending[seat] = card;
    const round = this.history.length + 1;
    const events = this.undelivered.splice(0);
    events.push(Event.public('played', { player, round }));
    if (this.pending[0] !== null && this.pending[1] !== null) {
      events.push(...this.reveal([this.pending[0], this.pending[1]]));
    }
    return events;
  }

  view(viewer) {
    const me = viewer.isSpectator ? null : this.seatOf(viewer.player);
    const own =
      me === null
        ? { players: [this.publicSeatJson(0), this.publicSeatJson(1)] }
        : {
            you: this.players[me],
            hand: this.hands[me],
            pending: this.pending[me],
            opponent: this.publicSeatJson(1 - me),
          };
    return {
      ...own,
      round: this.currentRound(),
      rounds: ROUNDS,
      history: this.historyJson(),
      scores: this.scoresJson(),
      awaiting: this.awaitingNames(),
      winners: this.winners(),
    };
  }

  status() {
    if (!this.isOver()) return Status.awaiting(this.awaitingNames());
    const seats = this.winnerSeats();
    const [a, b] = this.scores;
    const summary = seats.length === 1 ? `${this.players[seats[0]]} wins ${this.scores[seats[0]]}-${this.scores[1 - seats[0]]}` : `draw ${a}-${b}`;
    return Status.finished({
      winners: seats.map((s) => this.players[s]),
      scores: this.players.map((player, s) => ({ player, points: this.scores[s] })),
      summary,
    });
  }

  legalActions(player) {
    const seat = this.seatOf(player);
    if (seat === null || !this.awaitingSeats().includes(seat)) return [];
    return this.hands[seat].map((card) => ({ play: card }));
  }
}
