// The boards the client draws, by game name. A board module exports
// `name`, `fits(view)` (whether this view is one it draws), `draw(element,
// view, { myTurn, send })` and optionally `mark(view, player)`. To add a
// game's board: one module here and one line below.

import * as connectFour from './connect-four.js';
import * as ticTacToe from './tic-tac-toe.js';

const BOARDS = new Map([ticTacToe, connectFour].map((board) => [board.name, board]));

/** The board module of `game`, or undefined (the JSON view is shown). */
export function boardFor(game) {
  return BOARDS.get(game);
}
