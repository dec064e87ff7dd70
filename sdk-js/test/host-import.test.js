// Inside a component the SDK uses the host import (installed by the
// generated entry) for random draws and the log. Its own process: node
// --test runs every file apart, and installHost is for good.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { exportGame, installHost, log, randomBelow, randomU64 } from '../src/index.js';
import { Table } from '../src/testing.js';
import { Dice } from './games.js';

test('with the host import installed, draws and log lines go to the host', () => {
  const logged = [];
  let next = 0n;
  installHost({
    randomU64: () => {
      next += 1n;
      return next;
    },
    log: (level, message) => logged.push([level, message]),
  });
  assert.equal(randomU64(), 1n);
  assert.equal(randomBelow(2), 0); // 2 % 2
  // A room does not seed a native stream: the host seeds its own.
  const t = Table.start(Dice, ['ann'], 42);
  assert.deepEqual(t.game.drawn, [3n, 4n]);
  log('warn', 'careful');
  assert.deepEqual(logged, [['warn', 'careful']]);
  assert.throws(() => log('loud', 'x'), TypeError);

  const room = exportGame(Dice).Room.create('{}', ['ann'], 1n);
  assert.throws(() => room.apply('ann', '{"throw":"bug"}'));
  assert.equal(logged.length, 2);
  assert.equal(logged[1][0], 'error');
  assert.match(logged[1][1], /^panicked at Dice\.apply: TypeError: /);
});

test('installHost needs both functions', () => {
  assert.throws(() => installHost({ randomU64: () => 1n }), TypeError);
});
