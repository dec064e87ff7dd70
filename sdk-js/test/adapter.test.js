// The checks every game shares (sdk/src/adapter.rs): player count and names,
// config, seated player, game over, JSON, the status cache.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CreateRefused, GameOver, Illegal, Malformed, NotAPlayer, NotYourTurn, Status, Viewer } from '../src/index.js';
import { Table } from '../src/testing.js';
import { CountToTen, Dice } from './games.js';

test('the player count is checked against info()', () => {
  assert.throws(() => Table.start(CountToTen, ['ann'], 1), {
    name: 'CreateRefused',
    message: 'count-to-ten needs 2..=2 players, got 1',
  });
  assert.throws(() => Table.start(CountToTen, ['ann', 'bob', 'cy'], 1), /needs 2\.\.=2 players, got 3/);
  assert.throws(() => Table.start(Dice, [], 1), /dice needs 1\.\.=4 players, got 0/);
  Table.start(Dice, ['a', 'b', 'c', 'd'], 1);
});

test('player names must be non-empty and distinct', () => {
  assert.throws(() => Table.start(CountToTen, ['ann', 'ann'], 1), {
    message: 'player names must be non-empty and distinct, got "ann"',
  });
  assert.throws(() => Table.start(CountToTen, ['', 'bob'], 1), CreateRefused);
  assert.throws(() => Table.start(Dice, ['a', 'b', 'a'], 1), /non-empty and distinct/);
});

test('the config is parsed: blank is {}, bad JSON is refused', () => {
  assert.deepEqual(Table.startRaw(CountToTen, ['ann', 'bob'], 1, '').game.config, {});
  assert.deepEqual(Table.startRaw(CountToTen, ['ann', 'bob'], 1, '  \n').game.config, {});
  assert.deepEqual(Table.start(CountToTen, ['ann', 'bob'], 1, { level: 3 }).game.config, { level: 3 });
  assert.throws(() => Table.startRaw(CountToTen, ['ann', 'bob'], 1, '{"level":'), {
    name: 'CreateRefused',
    message: /^invalid config: /,
  });
});

test('an Error thrown by create is the refusal', () => {
  assert.throws(() => Table.start(CountToTen, ['ann', 'bob'], 1, { fail: 'no' }), {
    name: 'CreateRefused',
    message: 'refused: no',
  });
});

test('create gets the players and the seed as a BigInt', () => {
  const t = Table.start(CountToTen, ['ann', 'bob'], 42);
  assert.deepEqual(t.game.players, ['ann', 'bob']);
  assert.equal(t.game.seed, 42n);
  assert.equal(Table.start(CountToTen, ['ann', 'bob'], -1).game.seed, 2n ** 64n - 1n);
  assert.deepEqual(t.players, ['ann', 'bob']);
});

test('non-players are refused before the game sees the action', () => {
  const t = Table.start(CountToTen, ['ann', 'bob'], 1);
  assert.throws(() => t.act('eve', { add: 1 }), NotAPlayer);
  assert.throws(() => t.actRaw('eve', 'not json'), NotAPlayer);
  assert.deepEqual(t.game.actions, []);
});

test('unparsable JSON is malformed with the parser message', () => {
  const t = Table.start(CountToTen, ['ann', 'bob'], 1);
  for (const bad of ['', 'not json', '{"add":', '{add: 1}']) {
    assert.throws(() => t.actRaw('ann', bad), (e) => e instanceof Malformed && e.tag === 'malformed' && e.message !== '');
  }
  assert.deepEqual(t.game.actions, []);
  // The shape is the game's to check.
  assert.throws(() => t.act('ann', { take: 1 }), { name: 'Malformed', message: 'expected {"add": 1 | 2}' });
  assert.deepEqual(t.game.actions, [{ take: 1 }]);
});

test('refusals and the game-over check', () => {
  const t = Table.start(CountToTen, ['ann', 'bob'], 1);
  assert.throws(() => t.act('bob', { add: 1 }), NotYourTurn);
  assert.throws(() => t.act('ann', { add: 3 }), { name: 'Illegal', tag: 'illegal', message: 'add 1 or 2' });
  const moves = [['ann', 2], ['bob', 2], ['ann', 2], ['bob', 2], ['ann', 2]];
  for (const [who, add] of moves) {
    assert.deepEqual(t.act(who, { add }).map((e) => [e.kind, e.payload]), [['add', { player: who, add }]]);
  }
  assert.deepEqual(t.status().winners(), ['ann']);
  assert.ok(t.status().isFinished());
  assert.deepEqual(t.awaiting(), []);
  const seen = t.game.actions.length;
  assert.throws(() => t.act('bob', { add: 1 }), GameOver);
  assert.throws(() => t.actRaw('bob', 'not json'), GameOver, 'game over is checked before parsing');
  assert.throws(() => t.act('eve', { add: 1 }), NotAPlayer, 'non-players first');
  assert.equal(t.game.actions.length, seen);
  assert.deepEqual(t.legalActions('bob'), []);
});

test('the status is cached until an action is accepted', () => {
  const t = Table.start(CountToTen, ['ann', 'bob'], 1);
  const before = CountToTen.statusCalls;
  t.status();
  t.status();
  assert.throws(() => t.act('bob', { add: 1 }), NotYourTurn);
  assert.throws(() => t.act('ann', { add: 5 }), Illegal);
  t.awaiting();
  assert.equal(CountToTen.statusCalls - before, 1, 'one status() call for an unchanged game');
  t.act('ann', { add: 1 });
  assert.deepEqual(t.awaiting(), ['bob']);
  assert.equal(CountToTen.statusCalls - before, 2);
});

test('views get a Viewer; legal actions are JSON values', () => {
  const t = Table.start(CountToTen, ['ann', 'bob'], 1);
  assert.deepEqual(t.viewOf('bob'), { total: 0, viewer: 'bob' });
  assert.deepEqual(t.spectatorView(), { total: 0, viewer: null });
  assert.deepEqual(t.view(Viewer.player('eve')), { total: 0, viewer: 'eve' });
  assert.deepEqual(t.legalActions('ann'), [{ add: 1 }, { add: 2 }]);
  assert.deepEqual(t.legalActions('bob'), []);
});

test('ticks advance until the game is finished, then do nothing', () => {
  const t = Table.start(Dice, ['ann', 'bob'], 1, { ticks: 2 });
  const events = t.tick(100);
  assert.deepEqual(events.map((e) => [e.kind, e.payload, e.audience]), [
    ['tick', { left: 1 }, { tag: 'all-except', val: ['ann'] }],
  ]);
  assert.deepEqual(t.awaiting(), ['ann', 'bob']);
  t.tick(100);
  assert.ok(t.status().isFinished());
  assert.deepEqual(t.status().outcome().scores, [
    { player: 'ann', points: -3 },
    { player: 'other', points: 2n },
  ]);
  assert.deepEqual(t.tick(100), []);
  assert.deepEqual(t.spectatorView(), { ticks: 0, elapsed: 200 });
});

test('refusals thrown as WIT variants become ActionErrors; bugs propagate', () => {
  const t = Table.start(Dice, ['ann'], 1);
  assert.throws(() => t.act('ann', { throw: 'plain' }), (e) => e instanceof Illegal && e.message === 'thrown as a WIT variant');
  assert.throws(() => t.act('ann', { throw: 'bug' }), TypeError);
  assert.throws(() => t.act('ann', { throw: 'bad-events' }), TypeError);
});

test('Status.from accepts WIT-shaped statuses', () => {
  assert.deepEqual(Status.from({ tag: 'awaiting', val: ['a'] }).awaiting(), ['a']);
  assert.equal(Status.from({ tag: 'aborted', val: 'gave up' }).isFinished(), true);
  assert.equal(Status.from({ tag: 'aborted', val: 'gave up' }).winners(), null);
  assert.throws(() => Status.from({ tag: 'later' }), TypeError);
});
