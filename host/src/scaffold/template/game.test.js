// NAME's rules tests, run natively with `npm test` (node --test; no server).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Illegal, Malformed, NotYourTurn } from 'arcade-sdk';
import { Table } from 'arcade-sdk/testing';
import Nim from './game.js';

test('taking the last stone wins', () => {
  const table = Table.start(Nim, ['ann', 'bob'], 7);
  for (const player of ['ann', 'bob', 'ann', 'bob', 'ann']) table.act(player, { take: 3 });
  assert.deepEqual(table.status().winners(), ['ann']);
  assert.deepEqual(table.viewOf('bob'), { stones: 0, next: null });
});

test('bad moves are refused', () => {
  const table = Table.start(Nim, ['ann', 'bob'], 7);
  assert.throws(() => table.act('bob', { take: 1 }), NotYourTurn);
  assert.throws(() => table.act('ann', { take: 4 }), Illegal);
  assert.throws(() => table.act('ann', { take: 'all' }), Malformed);
  assert.deepEqual(table.legalActions('ann'), [{ take: 1 }, { take: 2 }, { take: 3 }]);
});
