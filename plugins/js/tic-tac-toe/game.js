// # Tic-tac-toe, in JavaScript
//
// The classic 3x3 game, a port of the Rust plugin `plugins/tic-tac-toe`
// with the JavaScript SDK (`sdk-js`).
//
// - Two players. The first player in seat order (`players[0]`) is `X` and
//   moves first; there is no randomness, so the seed does not matter.
// - Action: `{"cell": n}` with `n` in `0..=8`, row-major from the top-left:
//
//      0 | 1 | 2
//     ---+---+---
//      3 | 4 | 5
//     ---+---+---
//      6 | 7 | 8
//
// - View (the same for everyone, there is no hidden information):
//   `{"board": [9 x "X" | "O" | null], "players": {"X": name, "O": name},
//   "next": name | null, "rules_version": "1.0.0"}`.
// - Events: a public `"move"` event `{"player", "mark", "cell"}` per move.
// - Three in a row wins; a full board without a line is a draw.
//
// Build: `node sdk-js/bin/build.mjs plugins/js/tic-tac-toe/game.js -o ttt.wasm`.
// Outside this repository, import from 'arcade-sdk' instead of the path.

import { Event, Game, GameInfo, Illegal, Malformed, NotYourTurn, Status } from '../../../sdk-js/src/index.js';

/** The rules version, reported by `info()` and in every view. */
export const VERSION = '1.0.0';

/** The eight winning lines of cells. */
const LINES = [
  [0, 1, 2],
  [3, 4, 5],
  [6, 7, 8],
  [0, 3, 6],
  [1, 4, 7],
  [2, 5, 8],
  [0, 4, 8],
  [2, 4, 6],
];

/** Seat index of the player who owns a mark; `X` belongs to `players[0]` and moves first. */
const SEAT = { X: 0, O: 1 };
const OTHER = { X: 'O', O: 'X' };

/** The cell of a `{"cell": n}` action, or `Malformed` (as serde refuses the Rust action). */
function parseMove(action) {
  if (action === null || typeof action !== 'object' || Array.isArray(action)) {
    throw new Malformed('expected an action {"cell": 0..=8}');
  }
  for (const key of Object.keys(action)) {
    if (key !== 'cell') throw new Malformed(`unknown field "${key}", expected "cell"`);
  }
  if (!('cell' in action)) throw new Malformed('missing field "cell"');
  const { cell } = action;
  if (!Number.isSafeInteger(cell) || cell < 0) {
    throw new Malformed(`invalid cell ${JSON.stringify(cell)}, expected a non-negative integer`);
  }
  return cell;
}

export default class TicTacToe extends Game {
  static info() {
    return GameInfo.turnBased('js-tic-tac-toe', VERSION, 'Three in a row on a 3x3 grid (JavaScript).', 2, 2);
  }

  static create(config, players, seed) {
    if (config === null || typeof config !== 'object' || Array.isArray(config)) {
      throw new Error('invalid config: expected a JSON object');
    }
    if (players.length !== 2) {
      throw new Error(`tic-tac-toe needs exactly 2 players, got ${players.length}`);
    }
    return new TicTacToe(players);
  }

  constructor(players) {
    super();
    /** `[X, O]` player names. */
    this.players = [...players];
    /** Nine cells of 'X' | 'O' | null. */
    this.board = Array(9).fill(null);
    /** Whose mark goes next (meaningless once the game is over). */
    this.next = 'X';
  }

  nameOf(mark) {
    return this.players[SEAT[mark]];
  }

  /** The mark with three in a row, if any. */
  winner() {
    for (const [a, b, c] of LINES) {
      const m = this.board[a];
      if (m !== null && this.board[b] === m && this.board[c] === m) return m;
    }
    return null;
  }

  isFull() {
    return this.board.every((m) => m !== null);
  }

  isOver() {
    return this.winner() !== null || this.isFull();
  }

  apply(player, action) {
    const cell = parseMove(action);
    if (player !== this.nameOf(this.next)) throw new NotYourTurn();
    if (cell > 8) throw new Illegal(`cell ${cell} is off the board (0..=8)`);
    if (this.board[cell] !== null) throw new Illegal(`cell ${cell} is taken`);
    const mark = this.next;
    this.board[cell] = mark;
    this.next = OTHER[mark];
    return [Event.public('move', { player, mark, cell })];
  }

  view(viewer) {
    const status = this.status();
    return {
      board: this.board,
      players: { X: this.nameOf('X'), O: this.nameOf('O') },
      next: status.awaiting()[0] ?? null,
      rules_version: VERSION,
    };
  }

  status() {
    const mark = this.winner();
    if (mark !== null) return Status.winner(this.nameOf(mark));
    if (this.isFull()) return Status.draw();
    return Status.awaiting([this.nameOf(this.next)]);
  }

  legalActions(player) {
    if (this.isOver() || player !== this.nameOf(this.next)) return [];
    const cells = [];
    for (let cell = 0; cell < 9; cell++) {
      if (this.board[cell] === null) cells.push({ cell });
    }
    return cells;
  }
}
