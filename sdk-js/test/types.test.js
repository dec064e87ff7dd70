// Events, their visibility, statuses and action errors.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ActionError,
  Event,
  GameInfo,
  GameOver,
  Illegal,
  Malformed,
  NotAPlayer,
  NotYourTurn,
  Status,
  Viewer,
  visibleTo,
} from '../src/index.js';

test('event visibility for players and spectators', () => {
  const everyone = Event.public('e', { a: 1 });
  const onlyAnn = Event.private('p', { secret: 'QH' }, ['ann']);
  const notAnn = Event.allExcept('x', [1, 2], ['ann']);
  const cases = [
    // viewer, everyone, only ann, all but ann
    [Viewer.player('ann'), true, true, false],
    [Viewer.player('bob'), true, false, true],
    [Viewer.spectator(), true, false, true],
  ];
  for (const [viewer, e, o, x] of cases) {
    assert.equal(everyone.visibleTo(viewer), e);
    assert.equal(visibleTo(onlyAnn, viewer), o);
    assert.equal(visibleTo(notAnn, viewer), x);
  }
  // A player name is a viewer too; plain WIT-shaped events work.
  assert.equal(visibleTo({ kind: 'k', data: '1', audience: { tag: 'only', val: ['bob'] } }, 'bob'), true);
  assert.equal(visibleTo(onlyAnn, 'bob'), false);
});

test('event data is serialized by the SDK', () => {
  const e = Event.private('deal', { hand: ['2C', '10S'] }, 'ann');
  assert.equal(e.data, '{"hand":["2C","10S"]}');
  assert.deepEqual(e.payload, { hand: ['2C', '10S'] });
  assert.deepEqual(e.audience, { tag: 'only', val: ['ann'] });
  assert.equal(Event.public('k', undefined).data, 'null');
  assert.equal(Event.public('k', { big: 1n }).data, 'null', 'unserializable data is null, as in Rust');
  assert.deepEqual(Event.public('k', null).audience, { tag: 'everyone' });
  assert.throws(() => new Event('k', { not: 'text' }, { tag: 'everyone' }), TypeError);
  assert.throws(() => Event.forAudience('k', 1, { tag: 'some' }), TypeError);
  assert.deepEqual(Event.from({ kind: 'k', data: '2', audience: { tag: 'all-except', val: ['a'] } }).payload, 2);
});

test('viewers', () => {
  assert.equal(Viewer.player('ann').player, 'ann');
  assert.equal(Viewer.player('ann').isSpectator, false);
  assert.equal(Viewer.spectator().player, null);
  assert.equal(Viewer.spectator().isSpectator, true);
  assert.equal(Viewer.fromWit({ tag: 'player', val: 'bob' }).player, 'bob');
  assert.equal(Viewer.fromWit({ tag: 'spectator' }).isSpectator, true);
  assert.equal(JSON.stringify(Viewer.player('x')), '{"player":"x"}');
});

test('status helpers', () => {
  const running = Status.awaiting(['ann', 'bob']);
  assert.equal(running.isFinished(), false);
  assert.equal(running.winners(), null);
  assert.deepEqual(running.awaiting(), ['ann', 'bob']);

  const won = Status.winner('ann');
  assert.deepEqual(won.outcome(), { winners: ['ann'], scores: [], summary: 'ann wins' });
  assert.equal(won.isFinished(), true);
  assert.deepEqual(won.awaiting(), []);

  const draw = Status.draw();
  assert.deepEqual(draw.winners(), []);
  assert.equal(draw.outcome().summary, 'draw');

  const scored = Status.finished({ winners: ['bob'], scores: { ann: 1, bob: 3 }, summary: 'bob wins 3-1' });
  assert.deepEqual(scored.outcome().scores, [
    { player: 'ann', points: 1 },
    { player: 'bob', points: 3 },
  ]);
  const listed = Status.finished({ scores: [{ player: 'ann', points: -2n }] });
  assert.deepEqual(listed.outcome(), { winners: [], scores: [{ player: 'ann', points: -2n }], summary: '' });
  assert.throws(() => Status.finished({ scores: { ann: 1.5 } }), TypeError);
  assert.throws(() => Status.finished({ scores: { ann: 2n ** 63n } }), TypeError);

  const aborted = Status.aborted('gave up');
  assert.equal(aborted.isFinished(), true);
  assert.equal(aborted.winners(), null);
  assert.equal(aborted.val, 'gave up');
});

test('action errors carry the WIT case', () => {
  const cases = [
    [new NotYourTurn(), 'not-your-turn', 'NotYourTurn'],
    [new NotAPlayer(), 'not-a-player', 'NotAPlayer'],
    [new GameOver(), 'game-over', 'GameOver'],
    [new Malformed('bad shape'), 'malformed', 'Malformed'],
    [new Illegal('cell 4 is taken'), 'illegal', 'Illegal'],
  ];
  for (const [error, tag, name] of cases) {
    assert.ok(error instanceof ActionError && error instanceof Error);
    assert.equal(error.tag, tag);
    assert.equal(error.name, name);
    assert.equal(ActionError.from(error), error);
  }
  assert.equal(new Illegal('cell 4 is taken').message, 'cell 4 is taken');
  assert.ok(ActionError.from({ tag: 'not-your-turn' }) instanceof NotYourTurn);
  assert.equal(ActionError.from({ tag: 'malformed', val: 'why' }).message, 'why');
  assert.equal(ActionError.from(new TypeError('bug')), null);
  assert.equal(ActionError.from({ tag: 'other' }), null);
  assert.equal(ActionError.from('text'), null);
});

test('game info helpers', () => {
  assert.deepEqual({ ...GameInfo.turnBased('g', '1.0.0', 'd', 1, 4) }, {
    name: 'g',
    version: '1.0.0',
    description: 'd',
    minPlayers: 1,
    maxPlayers: 4,
    tickHz: 0,
  });
  assert.equal(GameInfo.realTime('g', '1.0.0', 'd', 1, 4, 30).tickHz, 30);
});
