// The native random stream is the host's splitmix64 (sdk/src/host.rs),
// bit for bit; every room has its own.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { SplitMix64, randomBelow, randomU64 } from '../src/index.js';
import { Table } from '../src/testing.js';
import { Dice } from './games.js';

// Computed independently with python3 (state += 0x9E3779B97F4A7C15;
// z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) *
// 0x94D049BB133111EB; z ^ (z >> 31), all mod 2**64).
const SEED_1 = [0x910a2dec89025cc1n, 0xbeeb8da1658eec67n, 0xf893a2eefb32555en, 0x71c18690ee42c90bn, 0x71bb54d8d101b5b9n];
const SEED_42 = [0xbdd732262feb6e95n, 0x28efe333b266f103n, 0x47526757130f9f52n, 0x581ce1ff0e4ae394n, 0x09bc585a244823f2n];

const draw = (stream, n) => Array.from({ length: n }, () => stream.nextU64());

test('splitmix64 matches the reference values for seeds 1 and 42', () => {
  assert.deepEqual(draw(new SplitMix64(1), 5), SEED_1);
  assert.deepEqual(draw(new SplitMix64(42n), 5), SEED_42);
});

test('values stay in 0..2**64 and seeds wrap like u64', () => {
  const values = draw(new SplitMix64(2n ** 64n - 1n), 1000);
  assert.ok(values.every((v) => v >= 0n && v < 2n ** 64n));
  assert.deepEqual(draw(new SplitMix64(-1), 3), draw(new SplitMix64(2n ** 64n - 1n), 3));
  assert.deepEqual(draw(new SplitMix64(2n ** 64n + 1n), 3), draw(new SplitMix64(1), 3));
  assert.throws(() => new SplitMix64(1.5), TypeError);
});

test('a room draws from splitmix64 seeded with the room seed, in create and later', () => {
  const t = Table.start(Dice, ['ann'], 42);
  assert.deepEqual(t.game.drawn, SEED_42.slice(0, 2));
  const [event] = t.act('ann', {});
  assert.equal(BigInt(event.payload.rolled), SEED_42[2]);
  assert.deepEqual(event.audience, { tag: 'only', val: ['ann'] });
  const [below] = t.act('ann', { below: 6 });
  assert.equal(below.payload.rolled, Number(SEED_42[3] % 6n));
});

test('rooms have their own streams, even interleaved', () => {
  const a = Table.start(Dice, ['ann'], 1);
  const b = Table.start(Dice, ['bob'], 42);
  const c = Table.start(Dice, ['cy'], 1);
  assert.deepEqual(a.game.drawn, SEED_1.slice(0, 2));
  assert.deepEqual(b.game.drawn, SEED_42.slice(0, 2));
  assert.deepEqual(c.game.drawn, SEED_1.slice(0, 2));
  assert.equal(a.act('ann', {})[0].payload.rolled, String(SEED_1[2]));
  assert.equal(b.act('bob', {})[0].payload.rolled, String(SEED_42[2]));
  assert.equal(a.act('ann', {})[0].payload.rolled, String(SEED_1[3]));
  assert.equal(c.act('cy', {})[0].payload.rolled, String(SEED_1[2]));
});

test('randomBelow is randomU64 % n, exactly as random_below', () => {
  const t = Table.start(Dice, ['ann'], 1);
  for (const [i, n] of [6, 52, 2 ** 53 - 1].entries()) {
    assert.equal(t.act('ann', { below: n })[0].payload.rolled, Number(SEED_1[2 + i] % BigInt(n)));
  }
  for (const bad of [0, -1, 1.5, '6', null]) assert.throws(() => randomBelow(bad), RangeError);
});

test('outside any room the native stream is splitmix64 seeded with 0', () => {
  const zero = new SplitMix64(0);
  assert.equal(randomU64(), zero.nextU64());
  assert.equal(randomBelow(1000), Number(zero.nextU64() % 1000n));
});
