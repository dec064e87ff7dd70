// The `rules` export driven natively the way the host drives the component:
// WIT shapes in and out (variants as {tag, val}, s64 as BigInt, refusals as
// `err` results).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { exportGame } from '../src/index.js';
import { CountToTen, Dice } from './games.js';

const rules = exportGame(CountToTen);

test('info is the WIT game-info record', () => {
  assert.deepEqual(rules.info(), {
    name: 'count-to-ten',
    version: '1.0.0',
    description: 'Reach ten first',
    minPlayers: 2,
    maxPlayers: 2,
    tickHz: 0,
  });
  assert.equal(exportGame(Dice).info().tickHz, 10);
});

test('create refusals are err results with the message', () => {
  assert.deepEqual(rules.Room.create('{}', ['ann'], 1n), { tag: 'err', val: 'count-to-ten needs 2..=2 players, got 1' });
  assert.deepEqual(rules.Room.create('{}', ['ann', 'ann'], 1n), {
    tag: 'err',
    val: 'player names must be non-empty and distinct, got "ann"',
  });
  assert.match(rules.Room.create('{', ['ann', 'bob'], 1n).val, /^invalid config: /);
  assert.deepEqual(rules.Room.create('{"fail":"x"}', ['ann', 'bob'], 1n), { tag: 'err', val: 'refused: x' });
  const room = rules.Room.create('', ['ann', 'bob'], 1n);
  assert.ok(room instanceof rules.Room);
});

test('apply returns WIT events or an err result with the WIT action-error', () => {
  const room = rules.Room.create('{}', ['ann', 'bob'], 7n);
  assert.deepEqual(room.apply('eve', '{"add":1}'), { tag: 'err', val: { tag: 'not-a-player' } });
  assert.deepEqual(room.apply('bob', '{"add":1}'), { tag: 'err', val: { tag: 'not-your-turn' } });
  assert.deepEqual(room.apply('ann', '{"add":3}'), { tag: 'err', val: { tag: 'illegal', val: 'add 1 or 2' } });
  const malformed = room.apply('ann', 'nope');
  assert.equal(malformed.tag, 'err');
  assert.equal(malformed.val.tag, 'malformed');
  assert.equal(typeof malformed.val.val, 'string');
  assert.deepEqual(room.apply('ann', '{"add":2}'), [
    { kind: 'add', data: '{"player":"ann","add":2}', audience: { tag: 'everyone' } },
  ]);
  assert.deepEqual(room.status(), { tag: 'awaiting', val: ['bob'] });
  assert.deepEqual(room.legalActions('bob'), ['{"add":1}', '{"add":2}']);
  assert.deepEqual(room.legalActions('ann'), []);
  assert.equal(room.view({ tag: 'player', val: 'ann' }), '{"total":2,"viewer":"ann"}');
  assert.equal(room.view({ tag: 'spectator' }), '{"total":2,"viewer":null}');
  for (const [who, add] of [['bob', 2], ['ann', 2], ['bob', 2], ['ann', 2]]) room.apply(who, JSON.stringify({ add }));
  assert.deepEqual(room.status(), { tag: 'finished', val: { winners: ['ann'], scores: [], summary: 'ann wins' } });
  assert.deepEqual(room.apply('bob', '{"add":1}'), { tag: 'err', val: { tag: 'game-over' } });
  assert.deepEqual(room.tick(50), []);
});

test('statuses map scores to WIT scores with BigInt points; ticks give WIT events', () => {
  const dice = exportGame(Dice).Room.create('{"ticks":1}', ['ann', 'bob'], 3n);
  assert.deepEqual(dice.tick(100), [{ kind: 'tick', data: '{"left":0}', audience: { tag: 'all-except', val: ['ann'] } }]);
  assert.deepEqual(dice.status(), {
    tag: 'finished',
    val: {
      winners: [],
      scores: [
        { player: 'ann', points: -3n },
        { player: 'other', points: 2n },
      ],
      summary: 'time',
    },
  });
  assert.deepEqual(dice.tick(100), []);
});

test('a bug in the game is reported as a panic through the log, then thrown', (t) => {
  const lines = [];
  t.mock.method(console, 'error', (line) => lines.push(line));
  const dice = exportGame(Dice).Room.create('{}', ['ann'], 3n);
  assert.throws(() => dice.apply('ann', '{"throw":"bug"}'), TypeError);
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^\[plugin error\] panicked at Dice\.apply: TypeError: /);
  // Refusals thrown as WIT variants are still refusals.
  assert.deepEqual(dice.apply('ann', '{"throw":"plain"}'), { tag: 'err', val: { tag: 'illegal', val: 'thrown as a WIT variant' } });
});

test('exportGame needs a Game class', () => {
  assert.throws(() => exportGame({}), TypeError);
  assert.throws(() => exportGame(class {}), TypeError);
});
