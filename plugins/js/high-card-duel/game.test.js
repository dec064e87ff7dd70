// Rules tests for the JavaScript high-card duel, ported from the Rust
// plugin's tests; run with `npm test` in sdk-js (or `node --test` on this file).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { GameOver, Illegal, Malformed, NotAPlayer, NotYourTurn, Viewer } from '../../../sdk-js/src/index.js';
import { Table } from '../../../sdk-js/src/testing.js';
import HighCardDuel, { HAND_SIZE, ROUNDS, deck, parseCard, cardText } from './game.js';

const table = (seed) => Table.start(HighCardDuel, ['ann', 'bob'], seed);
const hand = (t, player) => t.viewOf(player).hand;
const play = (t, player, card) => t.act(player, { play: card });
const data = (event) => JSON.parse(event.data);

/** Every string in `value`, object keys included. */
function strings(value, out = []) {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) value.forEach((v) => strings(v, out));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      strings(v, out);
    }
  }
  return out;
}

/** Asserts, structurally (whole strings, so "10S" never matches "0S"), that no `secret` card appears in `value`. */
function assertHides(value, secret, context) {
  for (const s of strings(value)) {
    assert.ok(!secret.includes(s), `${context} leaks ${s}: ${JSON.stringify(value)}`);
  }
}

/** Asserts neither the opponent's nor the spectator's view shows any card `player` holds or has put down. */
function assertSecretsKept(t, player, opponent) {
  const secret = [...hand(t, player)];
  const pending = t.viewOf(player).pending;
  if (pending !== null) secret.push(pending);
  assertHides(t.spectatorView(), secret, 'spectator view');
  assertHides(t.viewOf(opponent), secret, 'opponent view');
  assertHides(t.viewOf('eve'), secret, "a stranger's view");
}

test('info describes the game', () => {
  const info = HighCardDuel.info();
  assert.equal(info.name, 'js-high-card-duel');
  assert.equal(info.version, '1.0.0');
  assert.deepEqual([info.minPlayers, info.maxPlayers, info.tickHz], [2, 2, 0]);
});

test('cards parse and print', () => {
  for (const [text, rank, suit] of [
    ['2C', 2, 'C'],
    ['10S', 10, 'S'],
    ['JD', 11, 'D'],
    ['QH', 12, 'H'],
    ['KS', 13, 'S'],
    ['AD', 14, 'D'],
  ]) {
    assert.deepEqual(parseCard(text), { rank, suit });
    assert.equal(cardText({ rank, suit }), text);
  }
  for (const bad of ['', 'C', '1S', '0S', '11H', '010S', '+5H', 'QX', 'qh', '10', ' QH', '1 0S', 'AH ', 12, null]) {
    assert.throws(() => parseCard(bad), /is not a card/, String(bad));
  }
  const cards = deck();
  assert.equal(cards.length, 52);
  assert.equal(new Set(cards).size, 52);
  assert.ok(cards.every((c) => cardText(parseCard(c)) === c));
});

test('each player is dealt five distinct cards', () => {
  const t = table(1);
  const [a, b] = [hand(t, 'ann'), hand(t, 'bob')];
  assert.deepEqual([a.length, b.length], [HAND_SIZE, HAND_SIZE]);
  const all = new Set([...a, ...b]);
  assert.equal(all.size, 2 * HAND_SIZE, `hands overlap: ${a} ${b}`);
  for (const c of all) parseCard(c);
});

test('the deal is determined by the seed', () => {
  const deal = (seed) => JSON.stringify([hand(table(seed), 'ann'), hand(table(seed), 'bob')]);
  assert.equal(deal(42), deal(42));
  assert.equal(deal(2n ** 64n - 1n), deal(2n ** 64n - 1n));
  const distinct = new Set(Array.from({ length: 20 }, (_, seed) => deal(seed)));
  assert.ok(distinct.size >= 19, 'different seeds should deal differently');
});

test('the shuffle is the Rust game\'s: Fisher-Yates over the room stream', () => {
  // Replays (and the Rust plugin) depend on the exact algorithm. Computed
  // independently (python3, splitmix64 + Fisher-Yates over random % (i + 1)).
  let t = table(7);
  assert.deepEqual(hand(t, 'ann'), ['5D', '5H', '5S', 'QH', 'AS']);
  assert.deepEqual(hand(t, 'bob'), ['4S', '6C', '7D', '8H', 'JH']);
  t = table(42);
  assert.deepEqual(hand(t, 'ann'), ['2H', '3S', '8C', 'JD', 'AC']);
  assert.deepEqual(hand(t, 'bob'), ['2C', '2S', '4H', '6C', 'AD']);
});

test('deal events are private and delivered once', () => {
  const t = table(3);
  const [a, b] = [hand(t, 'ann'), hand(t, 'bob')];
  const events = play(t, 'bob', b[0]);
  const deals = events.filter((e) => e.kind === 'deal');
  assert.equal(deals.length, 2);
  assert.ok(events.indexOf(deals[1]) < events.findIndex((e) => e.kind === 'played'), 'deals come first');
  for (const [deal, [who, cards]] of deals.map((d, i) => [d, [['ann', a], ['bob', b]][i]])) {
    assert.deepEqual(deal.audience, { tag: 'only', val: [who] });
    assert.deepEqual(data(deal), { hand: cards });
    assert.ok(!deal.visibleTo(Viewer.spectator()));
  }
  assert.ok(deals[0].visibleTo(Viewer.player('ann')));
  assert.ok(!deals[0].visibleTo(Viewer.player('bob')));
  assert.ok(!deals[1].visibleTo('ann'));

  const later = play(t, 'ann', a[0]);
  assert.ok(later.every((e) => e.kind !== 'deal'), 'deal delivered twice');
});

test('hands are hidden from opponent and spectators throughout', () => {
  for (let seed = 0; seed < 20; seed++) {
    const t = table(seed);
    for (let r = 0; r < ROUNDS; r++) {
      assertSecretsKept(t, 'ann', 'bob');
      assertSecretsKept(t, 'bob', 'ann');
      // One player commits; their face-down card must stay hidden too.
      const first = seed % 2 === 0 ? 'ann' : 'bob';
      const second = first === 'ann' ? 'bob' : 'ann';
      const cards = hand(t, first);
      const card = cards[seed % cards.length];
      const events = play(t, first, card);
      for (const event of events.filter((e) => e.visibleTo(Viewer.spectator()))) {
        assertHides(data(event), [card], 'public event');
      }
      for (const event of events.filter((e) => e.visibleTo(second))) {
        if (event.kind !== 'deal') assertHides(data(event), [card], 'event seen by the opponent');
      }
      assert.equal(t.viewOf(first).pending, card);
      assertSecretsKept(t, first, second);
      assertSecretsKept(t, second, first);
      play(t, second, hand(t, second)[0]);
    }
    assert.ok(t.status().isFinished());
  }
});

test('views show own cards and only counts of others', () => {
  const t = table(5);
  const a = hand(t, 'ann');
  play(t, 'ann', a[2]);

  const ann = t.viewOf('ann');
  assert.equal(ann.you, 'ann');
  assert.equal(ann.hand.length, HAND_SIZE - 1);
  assert.equal(ann.pending, a[2]);
  assert.deepEqual(ann.opponent, { name: 'bob', hand_size: 5, played: false });
  assert.equal(ann.round, 1);
  assert.deepEqual(ann.awaiting, ['bob']);

  const bob = t.viewOf('bob');
  assert.equal(bob.pending, null);
  assert.deepEqual(bob.opponent, { name: 'ann', hand_size: 4, played: true });

  const spectator = t.spectatorView();
  assert.ok(!('hand' in spectator) && !('pending' in spectator));
  assert.deepEqual(spectator.players, [
    { name: 'ann', hand_size: 4, played: true },
    { name: 'bob', hand_size: 5, played: false },
  ]);
  assert.deepEqual(spectator.history, []);
  assert.deepEqual(spectator.scores, { ann: 0, bob: 0 });
  assert.equal(spectator.rounds, ROUNDS);
  assert.equal(spectator.winners, null);
  // Someone who is not seated gets the spectator view.
  assert.deepEqual(t.viewOf('eve'), spectator);
});

test('simultaneous rounds in any order', () => {
  const t = table(9);
  assert.deepEqual(t.awaiting(), ['ann', 'bob']);
  const [a, b] = [hand(t, 'ann'), hand(t, 'bob')];

  // Bob may go first in round 1.
  let events = play(t, 'bob', b[0]);
  assert.deepEqual(t.awaiting(), ['ann']);
  const played = events.find((e) => e.kind === 'played');
  assert.deepEqual(played.audience, { tag: 'everyone' });
  assert.deepEqual(data(played), { player: 'bob', round: 1 });
  assert.throws(() => t.act('bob', { play: b[1] }), NotYourTurn);
  assert.deepEqual(t.legalActions('bob'), []);

  events = play(t, 'ann', a[0]);
  const round = events.find((e) => e.kind === 'round');
  assert.ok(round, 'round revealed');
  assert.deepEqual(round.audience, { tag: 'everyone' });
  assert.equal(data(round).round, 1);
  assert.deepEqual(data(round).cards, { ann: a[0], bob: b[0] });
  assert.deepEqual(t.awaiting(), ['ann', 'bob']);
  assert.equal(t.spectatorView().round, 2);
  assert.deepEqual(t.spectatorView().history[0].cards, data(round).cards);
});

test('higher rank wins the round and ties score nothing', () => {
  const rank = (c) => parseCard(c).rank;
  let sawTie = false;
  let sawWin = false;
  for (let seed = 0; seed < 200; seed++) {
    const t = table(seed);
    const [a, b] = [hand(t, 'ann'), hand(t, 'bob')];
    // Prefer a pair of equal ranks when the deal has one.
    let pair = [a[0], b[0]];
    for (const x of a) {
      const y = b.find((c) => rank(c) === rank(x));
      if (y !== undefined) {
        pair = [x, y];
        break;
      }
    }
    const [ca, cb] = pair;
    play(t, 'ann', ca);
    const round = data(play(t, 'bob', cb).find((e) => e.kind === 'round'));
    let expected;
    let scores;
    if (rank(ca) > rank(cb)) [expected, scores] = ['ann', { ann: 1, bob: 0 }];
    else if (rank(ca) < rank(cb)) [expected, scores] = ['bob', { ann: 0, bob: 1 }];
    else {
      sawTie = true;
      [expected, scores] = [null, { ann: 0, bob: 0 }];
    }
    sawWin ||= expected !== null;
    assert.equal(round.winner, expected, `${ca} vs ${cb}`);
    assert.deepEqual(round.scores, scores);
    assert.deepEqual(t.spectatorView().scores, scores);
  }
  assert.ok(sawTie && sawWin, 'covered both ties and wins');
});

/** Play a whole game, each player always leading with their lowest card. */
function playOut(seed) {
  const t = table(seed);
  while (!t.status().isFinished()) {
    for (const who of ['ann', 'bob']) play(t, who, hand(t, who)[0]);
  }
  return t;
}

test('most rounds wins and equal rounds draw', () => {
  let wins = 0;
  let draws = 0;
  for (let seed = 0; seed < 100; seed++) {
    const t = playOut(seed);
    const view = t.spectatorView();
    assert.equal(view.history.length, ROUNDS);
    const won = (who) => view.history.filter((r) => r.winner === who).length;
    const [a, b] = [won('ann'), won('bob')];
    const outcome = t.status().outcome();
    assert.ok(outcome, 'finished');
    assert.deepEqual(outcome.scores, [
      { player: 'ann', points: a },
      { player: 'bob', points: b },
    ]);
    const expected = a > b ? ['ann'] : a < b ? ['bob'] : [];
    if (expected.length === 0) draws += 1;
    else wins += 1;
    assert.deepEqual(outcome.winners, expected, `seed ${seed}: ${a}-${b}`);
    assert.equal(outcome.summary, expected.length ? `${expected[0]} wins ${Math.max(a, b)}-${Math.min(a, b)}` : `draw ${a}-${b}`);
    assert.deepEqual(view.winners, expected);
    assert.equal(view.round, null);
    assert.deepEqual(view.awaiting, []);
  }
  assert.ok(wins > 0 && draws > 0, `covered wins (${wins}) and draws (${draws})`);
});

test('the last round announces the result', () => {
  const t = table(4);
  for (let r = 0; r < ROUNDS - 1; r++) {
    for (const who of ['ann', 'bob']) play(t, who, hand(t, who)[0]);
  }
  play(t, 'ann', hand(t, 'ann')[0]);
  const events = play(t, 'bob', hand(t, 'bob')[0]);
  const over = events.find((e) => e.kind === 'game-over');
  assert.ok(over, 'game-over event');
  assert.deepEqual(over.audience, { tag: 'everyone' });
  assert.deepEqual(data(over).winners, t.status().winners());
});

test('cards not in hand are illegal', () => {
  const t = table(2);
  const b = hand(t, 'bob');
  const before = t.viewOf('ann');
  assert.throws(() => t.act('ann', { play: b[0] }), { name: 'Illegal', message: `${b[0]} is not in your hand` });
  assert.deepEqual(t.viewOf('ann'), before, 'state unchanged after an error');
  assert.deepEqual(t.awaiting(), ['ann', 'bob']);

  // A card already played is no longer in hand either.
  const a = hand(t, 'ann');
  play(t, 'ann', a[0]);
  play(t, 'bob', b[0]);
  assert.throws(() => t.act('ann', { play: a[0] }), Illegal);
});

test('strangers and malformed actions are refused', () => {
  const t = table(2);
  const a = hand(t, 'ann');
  assert.throws(() => t.act('eve', { play: a[0] }), NotAPlayer);
  for (const bad of ['', 'QH', '{}', '{"play":"1H"}', '{"play":"QX"}', '{"play":12}', '{"card":"QH"}', '{"play":"QH","also":"KH"}', 'null', '[]']) {
    assert.throws(() => t.actRaw('ann', bad), Malformed, bad);
  }
  assert.deepEqual(hand(t, 'ann'), a);
  // Nothing was accepted, so the deal events are still pending.
  const events = play(t, 'ann', a[0]);
  assert.equal(events.filter((e) => e.kind === 'deal').length, 2);
});

test('no actions after the game is over', () => {
  const t = playOut(8);
  assert.throws(() => t.act('ann', { play: '2C' }), GameOver);
  assert.deepEqual(t.legalActions('ann'), []);
  assert.deepEqual(t.legalActions('bob'), []);
});

test('legal actions are the cards in hand while awaited', () => {
  const t = table(6);
  const a = hand(t, 'ann');
  assert.deepEqual(t.legalActions('ann'), a.map((c) => ({ play: c })));
  assert.deepEqual(t.legalActions('eve'), []);
  play(t, 'ann', a[0]);
  assert.deepEqual(t.legalActions('ann'), []);
  assert.equal(t.legalActions('bob').length, HAND_SIZE);
});

test('random legal play always finishes the same way per seed', () => {
  const mask = (1n << 64n) - 1n;
  const run = (seed) => {
    const t = table(seed);
    let pick = seed;
    const log = [];
    while (t.awaiting().length > 0) {
      const awaiting = t.awaiting();
      const who = awaiting[awaiting.length - 1];
      const legal = t.legalActions(who);
      pick = (pick * 6364136223846793005n + 1442695040888963407n) & mask;
      const action = legal[Number((pick >> 33n) % BigInt(legal.length))];
      log.push(action);
      t.act(who, action);
    }
    return [log, t.spectatorView()];
  };
  for (let seed = 0n; seed < 30n; seed++) {
    const [log, view] = run(seed);
    assert.equal(log.length, 2 * ROUNDS);
    assert.deepEqual(run(seed), [log, view], `seed ${seed} replays identically`);
  }
});
