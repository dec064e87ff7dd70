// Rules tests for the JavaScript tic-tac-toe, ported from the Rust plugin's
// tests; run with `npm test` in sdk-js (or `node --test` on this file).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { GameOver, Illegal, Malformed, NotAPlayer, NotYourTurn } from '../../../sdk-js/src/index.js';
import { Table } from '../../../sdk-js/src/testing.js';
import TicTacToe, { VERSION } from './game.js';

const table = () => Table.start(TicTacToe, ['ann', 'bob'], 7);

/** Play `cells` alternately, starting with ann (X). */
function play(t, cells) {
  cells.forEach((cell, i) => t.act(i % 2 === 0 ? 'ann' : 'bob', { cell }));
}

test('info describes the game', () => {
  const info = TicTacToe.info();
  assert.equal(info.name, 'js-tic-tac-toe');
  assert.equal(info.version, '1.0.0');
  assert.deepEqual([info.minPlayers, info.maxPlayers, info.tickHz], [2, 2, 0]);
  assert.equal(table().spectatorView().rules_version, '1.0.0');
});

test('needs two players', () => {
  assert.throws(() => Table.start(TicTacToe, ['ann'], 1), /needs 2\.\.=2 players, got 1/);
  assert.throws(() => Table.start(TicTacToe, ['ann', 'bob', 'cid'], 1), /got 3/);
});

test('a config that is not an object is refused', () => {
  assert.throws(() => Table.startRaw(TicTacToe, ['ann', 'bob'], 1, '[1]'), /invalid config/);
  Table.startRaw(TicTacToe, ['ann', 'bob'], 1, '{"anything": 1}');
});

test('first seat is X and starts whatever the seed', () => {
  for (const seed of [0, 1, 42, 2n ** 64n - 1n]) {
    const t = Table.start(TicTacToe, ['ann', 'bob'], seed);
    assert.deepEqual(t.awaiting(), ['ann']);
    assert.deepEqual(t.spectatorView().players, { X: 'ann', O: 'bob' });
  }
  assert.deepEqual(Table.start(TicTacToe, ['bob', 'ann'], 3).awaiting(), ['bob']);
});

test('initial view', () => {
  const t = table();
  assert.deepEqual(t.viewOf('ann'), {
    board: [null, null, null, null, null, null, null, null, null],
    players: { X: 'ann', O: 'bob' },
    next: 'ann',
    rules_version: VERSION,
  });
  // No hidden information: every viewer sees the same thing.
  assert.deepEqual(t.viewOf('ann'), t.viewOf('bob'));
  assert.deepEqual(t.viewOf('ann'), t.spectatorView());
});

test('moves alternate and show in the view', () => {
  const t = table();
  const events = t.act('ann', { cell: 4 });
  assert.equal(events.length, 1);
  assert.equal(events[0].kind, 'move');
  assert.deepEqual(events[0].audience, { tag: 'everyone' });
  assert.deepEqual(JSON.parse(events[0].data), { player: 'ann', mark: 'X', cell: 4 });
  assert.deepEqual(t.awaiting(), ['bob']);

  t.act('bob', { cell: 0 });
  const view = t.spectatorView();
  assert.equal(view.board[4], 'X');
  assert.equal(view.board[0], 'O');
  assert.equal(view.next, 'ann');
});

test('row, column and diagonal wins', () => {
  for (const [cells, winner] of [
    [[0, 3, 1, 4, 2], 'ann'], // top row by X
    [[0, 1, 3, 4, 8, 7], 'bob'], // middle column by O
    [[0, 1, 4, 2, 8], 'ann'], // diagonal by X
    [[0, 2, 1, 4, 8, 6], 'bob'], // anti-diagonal by O
  ]) {
    const t = table();
    play(t, cells);
    assert.deepEqual(t.status().winners(), [winner], String(cells));
    assert.equal(t.status().outcome().summary, `${winner} wins`);
    assert.equal(t.spectatorView().next, null);
    assert.deepEqual(t.awaiting(), []);
  }
});

test('a line on the ninth move wins rather than draws', () => {
  const t = table();
  // X O X
  // X X O
  // O O X   <- X's last move, cell 8, completes the 0-4-8 diagonal.
  play(t, [0, 1, 2, 5, 4, 6, 3, 7, 8]);
  assert.deepEqual(t.status().winners(), ['ann']);
});

test('full board without a line is a draw', () => {
  const t = table();
  // X O X
  // X O O
  // O X X
  play(t, [0, 1, 2, 4, 3, 5, 7, 6, 8]);
  const status = t.status();
  assert.deepEqual(status.winners(), []);
  assert.equal(status.outcome().summary, 'draw');
  assert.deepEqual(t.legalActions('ann'), []);
  assert.deepEqual(t.legalActions('bob'), []);
});

test('taken and off-board cells are illegal', () => {
  const t = table();
  t.act('ann', { cell: 4 });
  const before = t.spectatorView();
  assert.throws(() => t.act('bob', { cell: 4 }), Illegal);
  assert.throws(() => t.act('bob', { cell: 9 }), { name: 'Illegal', message: 'cell 9 is off the board (0..=8)' });
  assert.deepEqual(t.spectatorView(), before, 'state unchanged after an error');
  assert.deepEqual(t.awaiting(), ['bob']);
});

test('out of turn and strangers are refused', () => {
  const t = table();
  assert.throws(() => t.act('bob', { cell: 0 }), NotYourTurn);
  assert.throws(() => t.act('eve', { cell: 0 }), NotAPlayer);
  t.act('ann', { cell: 0 });
  assert.throws(() => t.act('ann', { cell: 1 }), NotYourTurn);
});

test('malformed actions are refused', () => {
  const t = table();
  for (const bad of ['', 'not json', '{}', '{"cell":-1}', '{"cell":"4"}', '{"cell":4,"x":1}', 'null', '{"cell":1.5}']) {
    assert.throws(() => t.actRaw('ann', bad), Malformed, bad);
  }
  assert.deepEqual(t.awaiting(), ['ann']);
});

test('no moves after the game is over', () => {
  const t = table();
  play(t, [0, 3, 1, 4, 2]);
  assert.throws(() => t.act('bob', { cell: 5 }), GameOver);
  assert.deepEqual(t.legalActions('bob'), []);
});

test('legal actions are the empty cells of the mover', () => {
  const t = table();
  assert.equal(t.legalActions('ann').length, 9);
  assert.deepEqual(t.legalActions('bob'), []);
  assert.deepEqual(t.legalActions('eve'), []);
  t.act('ann', { cell: 4 });
  const legal = t.legalActions('bob');
  assert.equal(legal.length, 8);
  assert.ok(!legal.some((a) => a.cell === 4));
});

test('random legal play always finishes', () => {
  const mask = (1n << 64n) - 1n;
  for (let seed = 0n; seed < 50n; seed++) {
    const t = Table.start(TicTacToe, ['ann', 'bob'], seed);
    let pick = seed;
    let moves = 0;
    while (t.awaiting().length > 0) {
      const who = t.awaiting()[0];
      const legal = t.legalActions(who);
      pick = (pick * 6364136223846793005n + 1442695040888963407n) & mask;
      const action = legal[Number((pick >> 33n) % BigInt(legal.length))];
      t.act(who, action);
      moves += 1;
    }
    assert.ok(t.status().isFinished());
    assert.ok(moves >= 5 && moves <= 9);
  }
});
