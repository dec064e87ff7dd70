// The example games played through their own UI modules, each in the
// sandboxed board frame (`#board iframe.board-frame`, host/client/ui/frame.js),
// by two players in two headless Chromium contexts (two guest accounts).
// The first player creates a room from the lobby; the second finds it in the
// lobby's open rooms and joins it there.
//
//   node game-uis.mjs <base-url> <out-dir> <case>
//
// Cases:
//   arena           a room with `{"duration_ticks": 160, "asteroids": 40}`
//                   (8 s); both players steer with the arrow keys on the
//                   canvas until the game ends. While it runs, each canvas
//                   shows both ships (pixels of both seat colours,
//                   data-ships-drawn="2"), the thrusts were accepted and moved
//                   a ship; a screenshot of the frame goes to <out-dir>/arena.png.
//                   Both pages end with an outcome (win, lose or draw).
//   high-card-duel  the card back, an asset beside the UI module, loads in
//                   the frame; both play by clicking a playable card until
//                   the end (5 rounds); then the first player watches the archived game
//                   in the replay viewer: its last frame shows the same
//                   rounds, scores and result as the live game, its first none;
//                   a screenshot goes to <out-dir>/replay.png.
//   hostile         tic-tac-toe 2.0.0 must carry tests/browser/fixtures/hostile-ui.js
//                   (the caller publishes it): every probe of the frame
//                   (storage, cookies, the page, top, the network) is blocked
//                   and nothing leaks; the board still plays the game to the
//                   end; a flood of actions is dropped and reported without
//                   touching the room, and a throwing board is reported in
//                   the status line while the page stays usable.
//
// Prints `PASS <case>` and exits 0; any failure exits 1 with a message
// (and each page's state, its board frame's included, on stderr).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launch } from './chromium.mjs';

const STEP_MS = 15_000;
const WHOLE_MS = 120_000;
const CASES = ['arena', 'high-card-duel', 'hostile'];

const [base, outDir, which] = process.argv.slice(2);
if (!base || !outDir || !CASES.includes(which)) {
  console.error(`usage: node game-uis.mjs <base-url> <out-dir> <${CASES.join('|')}>`);
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

const watchdog = setTimeout(() => {
  console.error(`FAIL ${which}: the whole test took longer than ${WHOLE_MS / 1000} s`);
  process.exit(1);
}, WHOLE_MS);

const suffix = Math.random().toString(36).slice(2, 7);
const players = [{ name: `ann-${suffix}` }, { name: `ben-${suffix}` }];
const pageErrors = [];
/** Uncaught errors a case provokes on purpose (matched against the message). */
const expectedErrors = [];
let browser;

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function log(message) {
  console.log(`[game-uis ${which}] ${message}`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Wait for `predicate(arg)` to hold in the host page, with a readable failure. */
async function until(page, what, predicate, arg, timeout = STEP_MS) {
  try {
    return await page.waitForFunction(predicate, arg, { timeout, polling: 20 });
  } catch (e) {
    throw new Error(`${what}: not within ${timeout} ms (${e.message.split('\n')[0]})`);
  }
}

/** The board frame in `container` (a selector: `#board` or `#replay-board`), as a Playwright Frame, or null. */
async function frameIn(page, container = '#board') {
  const element = await page.$(`${container} iframe.board-frame`);
  return element ? element.contentFrame() : null;
}

/** Locators inside the board frame in `container`. */
const board = (page, container = '#board') => page.frameLocator(`${container} iframe.board-frame`);

/**
 * Wait for `predicate(arg)` to return something truthy inside the board
 * frame in `container` (evaluated there; the frame may be replaced
 * meanwhile); returns that value.
 */
async function untilInFrame(page, container, what, predicate, arg, timeout = STEP_MS) {
  const deadline = Date.now() + timeout;
  let last = 'no board frame yet';
  for (;;) {
    try {
      const frame = await frameIn(page, container);
      if (frame) {
        const value = await frame.evaluate(predicate, arg);
        if (value) return value;
        last = `not yet (${JSON.stringify(value)})`;
      }
    } catch (e) {
      last = e.message.split('\n')[0];
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeout} ms in the board frame (${last})`);
    await sleep(50);
  }
}

/** Evaluate `fn(arg)` inside the board frame in `container` (it must be there). */
async function inFrame(page, container, fn, arg) {
  const frame = await frameIn(page, container);
  check(frame, `no board frame in ${container}`);
  return frame.evaluate(fn, arg);
}

const info = (page) => page.evaluate(() => window.arcade.info());

async function dump(player) {
  if (!player.page || player.page.isClosed()) return;
  try {
    const snapshot = await player.page.evaluate(() => {
      const text = (id) => document.getElementById(id)?.textContent;
      const full = window.arcade ? window.arcade.info() : null;
      const last = full && full.last;
      return {
        status: `${document.querySelector('#status')?.dataset.kind}: ${text('status')}`,
        conn: text('conn'),
        turn: text('turn'),
        result: `${document.querySelector('#result')?.dataset.outcome}: ${text('result')}`,
        panels: ['lobby', 'table', 'replay'].filter((id) => !document.getElementById(id)?.hidden),
        replay: document.querySelector('#replay')?.hidden ? null : { turn: text('replay-turn'), result: text('replay-result'), at: text('replay-position') },
        seat: full && full.seat,
        connection: full && full.connection,
        last: last && { seq: last.seq, status: last.status, legal_actions: last.legal_actions, view: JSON.stringify(last.view).slice(0, 600) },
      };
    });
    for (const container of ['#board', '#replay-board']) {
      const frame = await frameIn(player.page, container).catch(() => null);
      if (!frame) continue;
      snapshot[`frame ${container}`] = await frame
        .evaluate(() => ({
          error: document.querySelector('#frame-error')?.hidden ? null : document.querySelector('#frame-error')?.textContent,
          text: document.body.innerText.replace(/\s+/g, ' ').slice(0, 800),
        }))
        .catch((e) => `unreadable (${e.message.split('\n')[0]})`);
    }
    console.error(`--- ${player.name}: ${JSON.stringify(snapshot, null, 1)}`);
  } catch (e) {
    console.error(`--- ${player.name}: page state unavailable (${e.message})`);
  }
}

/** A signed-in guest on `/` in its own browser context, with `game` chosen. */
async function open(player, game) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 1000 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on('pageerror', (error) => {
    if (!expectedErrors.some((expected) => error.message.includes(expected))) {
      pageErrors.push(`${player.name}: ${error.message}`);
    }
  });
  player.page = page;
  const response = await page.goto(`${base}/`);
  check(response && response.ok(), `GET / answered ${response && response.status()}`);
  await until(page, `${player.name}: ${game} in the game list`, (g) => !!document.querySelector(`#game option[value="${g}"]`), game);
  await until(page, `${player.name}: signed in as a guest`, () => {
    const account = window.arcade.info().account;
    return !!account && account.id.startsWith('acc_') &&
      document.querySelector('#account').textContent.includes(account.display_name);
  });
  player.account = (await info(page)).account.id;
  await page.fill('#name', player.name);
  await page.selectOption('#game', game);
}

/** `player` creates a listed room of the chosen game (with `config`, JSON text, if given); returns its id. */
async function createRoom(player, config) {
  const { page } = player;
  if (config !== undefined) {
    await page.click('#room-options summary');
    await page.locator('#room-config').fill(config);
  }
  check(await page.locator('#room-listed').isChecked(), '"List the room in the lobby" is not checked by default');
  await page.click('#create-room');
  await until(page, `${player.name}: room id shown after "Create room"`, () =>
    Boolean(document.querySelector('#room-id')?.textContent) && !document.querySelector('#table').hidden,
  );
  const room = await page.locator('#room-id').innerText();
  log(`${player.name} created room ${room}${config ? ` with config ${config}` : ''}`);
  return room;
}

/** `player` finds `room` (created by `creator`) in the lobby's open rooms and joins it there. */
async function joinFromList(player, room, creator, game) {
  const { page } = player;
  const item = page.locator(`#open-rooms li[data-room="${room}"]`);
  for (let attempt = 0; ; attempt++) {
    await page.click('#refresh-rooms');
    try {
      await item.waitFor({ state: 'visible', timeout: 1000 });
      break;
    } catch {
      if (attempt >= 10) {
        throw new Error(`room ${room} is not in ${player.name}'s open rooms: ${JSON.stringify(await page.locator('#open-rooms').innerText())}`);
      }
    }
  }
  const line = await item.innerText();
  check(line.includes(game) && line.includes(creator.name) && line.includes('1/2 seated'), `the open room's line says ${JSON.stringify(line)}`);
  log(`${player.name} sees the room in the lobby: ${JSON.stringify(line.split('\n')[0])}`);
  await item.locator('button.join-open-room').click();
}

/** Wait until `player`'s page is seated in `room`, its game started, and the board frame shows `selector`. */
async function seated(player, room, selector) {
  await until(
    player.page,
    `${player.name}: seated in the started game of room ${room}`,
    (id) => {
      const seat = window.arcade.info().seat;
      const turn = document.querySelector('#turn')?.textContent || '';
      return seat && seat.room === id && seat.player && /Your turn|Waiting for (?!players)|Game over/.test(turn);
    },
    room,
    30_000,
  );
  await untilInFrame(player.page, '#board', `${player.name}: the board frame shows ${selector}`, (s) => !!document.querySelector(s), selector);
}

/** Record every change of the host page's status line in `window.__statusLog` ({kind, text}). */
async function recordStatus(page) {
  await page.evaluate(() => {
    const line = document.querySelector('#status');
    window.__statusLog = [];
    const note = () => window.__statusLog.push({ kind: line.dataset.kind, text: line.textContent });
    new MutationObserver(note).observe(line, { childList: true, characterData: true, subtree: true, attributes: true });
  });
}

async function untilStatus(page, what, kind, pattern) {
  await until(
    page,
    what,
    ([k, source]) => {
      const re = new RegExp(source, 'i');
      const line = document.querySelector('#status');
      return (window.__statusLog || []).concat([{ kind: line.dataset.kind, text: line.textContent }])
        .some((entry) => entry.kind === k && re.test(entry.text));
    },
    [kind, pattern.source],
  );
}

async function outcomeOf(page) {
  return page.evaluate(() => {
    const result = document.querySelector('#result');
    return { outcome: result.dataset.outcome || '', text: result.textContent, hidden: result.hidden };
  });
}

async function untilOutcome(player, timeout = STEP_MS) {
  await until(player.page, `${player.name}: an outcome in #result`, () => Boolean(document.querySelector('#result')?.dataset.outcome), undefined, timeout);
  return outcomeOf(player.page);
}

// --- arena ---------------------------------------------------------------

const SEAT_COLOURS = { red: [0xe6, 0x39, 0x46], blue: [0x1d, 0x8f, 0xe1] };

/** Hold arrow keys on `player`'s canvas, switching every ~700 ms, until `stop()` says so. */
async function steer(player, keys, stop) {
  const { page } = player;
  let held = null;
  let index = 0;
  while (!(await stop())) {
    const next = keys[index++ % keys.length];
    if (held) await page.keyboard.up(held);
    await page.keyboard.down(next);
    held = next;
    player.keysPressed = (player.keysPressed || 0) + 1;
    const until = Date.now() + 700;
    while (Date.now() < until && !(await stop())) await sleep(100);
  }
  if (held) await page.keyboard.up(held);
}

/** Give the arena canvas the keyboard focus (a click where no ship is, if focus() is not enough). */
async function focusCanvas(player) {
  const canvas = board(player.page).locator('canvas#arena');
  await canvas.focus();
  const focused = () => inFrame(player.page, '#board', () => document.hasFocus() && document.activeElement?.id === 'arena');
  if (!(await focused())) {
    await canvas.click({ position: { x: 4, y: 4 } });
    check(await focused(), `${player.name}: the arena canvas does not get the keyboard focus`);
    log(`${player.name}: focused the canvas by clicking it`);
  }
}

async function arena() {
  const [a, b] = players;
  for (const player of players) await open(player, 'arena');
  check(a.account !== b.account, `two browsers, one account (${a.account})`);
  const room = await createRoom(a, '{"duration_ticks": 160, "asteroids": 40}');
  await joinFromList(b, room, a, 'arena');
  for (const player of players) await seated(player, room, 'canvas#arena');
  const welcome = (await info(a.page)).welcome;
  check(welcome && welcome.game === 'arena', `welcome: ${JSON.stringify(welcome)}`);
  log('both boards are mounted in their frames');

  const start = (await info(a.page)).last;
  check(start.view && start.view.ships && start.view.ships.length === 2, `the arena has ${start.view?.ships?.length} ships`);
  const ticksLeft = start.view.ticks_left;
  check(ticksLeft <= 160, `the room ignored the config: ${ticksLeft} ticks left (duration_ticks 160 was asked)`);
  const startShips = start.view.ships.map((ship) => ({ ...ship }));
  log(`game started at tick ${start.view.tick}: ${startShips.map((s) => `${s.player}@(${s.x},${s.y})`).join(' ')}`);

  for (const player of players) await focusCanvas(player);
  const over = async () => {
    for (const player of players) {
      if (!(await player.page.evaluate(() => Boolean(document.querySelector('#result')?.dataset.outcome)))) return false;
    }
    return true;
  };
  let stopped = false; // a check failed: stop steering
  const stop = async () => stopped || over();
  // Resolves to the error that stopped the steering, if any.
  const steering = Promise.all([
    steer(a, ['ArrowLeft', 'ArrowUp', 'ArrowRight', 'ArrowDown'], stop),
    steer(b, ['ArrowRight', 'ArrowDown', 'ArrowLeft', 'ArrowUp'], stop),
  ]).then(() => null, (error) => error);

  try {
    // While the game runs: both ships on both canvases (checked first: the
    // ships start in the middle, clear of asteroids, so neither is out yet),
    // and the thrusts moved them.
    await sleep(300);
    for (const player of players) {
      const seen = await untilInFrame(
        player.page,
        '#board',
        `${player.name}: both ships on the canvas (> 50 pixels of each seat colour, data-ships-drawn="2")`,
        (colours) => {
          const canvas = document.querySelector('canvas#arena');
          if (!canvas) return null;
          const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
          const counts = { red: 0, blue: 0 };
          for (let i = 0; i < data.length; i += 4) {
            for (const [name, [r, g, b]] of Object.entries(colours)) {
              if (Math.abs(data[i] - r) <= 12 && Math.abs(data[i + 1] - g) <= 12 && Math.abs(data[i + 2] - b) <= 12) counts[name] += 1;
            }
          }
          const ok = counts.red > 50 && counts.blue > 50 && canvas.dataset.shipsDrawn === '2';
          return ok && { ...counts, drawn: canvas.dataset.shipsDrawn, side: canvas.width };
        },
        SEAT_COLOURS,
        4000,
      );
      log(`${player.name}'s canvas (${seen.side} px): ${seen.red} red and ${seen.blue} blue pixels, data-ships-drawn=${seen.drawn}`);
    }
    check(!(await over()), 'the game was over before both canvases were checked');
    await a.page.locator('#board iframe.board-frame').screenshot({ path: join(outDir, 'arena.png') });
    log(`screenshot of ${a.name}'s board written to ${join(outDir, 'arena.png')}`);

    await sleep(1200);
    const now = (await info(a.page)).last;
    check(now.seq > 0, `no thrust was accepted by the room (seq ${now.seq}); keys pressed: ${a.keysPressed}, ${b.keysPressed}`);
    const moved = now.view.ships.filter((ship) => {
      const before = startShips.find((s) => s.player === ship.player);
      return ship.x != null && before && Math.hypot(ship.x - before.x, ship.y - before.y) > 5;
    });
    check(
      moved.length > 0,
      `no ship moved after ${now.seq} thrusts: ${JSON.stringify(now.view.ships)} (start ${JSON.stringify(startShips)})`,
    );
    log(`${now.seq} thrusts accepted by tick ${now.view.tick}; moved: ${moved.map((s) => `${s.player}→(${s.x},${s.y}) v=(${s.vx},${s.vy})`).join(' ')}`);
  } catch (error) {
    stopped = true;
    await steering;
    throw error;
  }
  // The steering runs out with the game.
  for (const player of players) {
    const { outcome, text } = await untilOutcome(player, 20_000);
    check(['win', 'lose', 'draw'].includes(outcome), `${player.name}'s outcome is ${JSON.stringify(outcome)} (${text})`);
    log(`${player.name}: ${outcome} (${JSON.stringify(text)})`);
  }
  const steered = await steering;
  check(!steered, `steering with the keyboard failed: ${steered && steered.message}`);
  log(`keys switched ${a.keysPressed} and ${b.keysPressed} times`);
  const overlay = await board(a.page).locator('#arena-overlay').getAttribute('data-state');
  check(overlay === 'finished', `the arena overlay says ${overlay} at the end`);
}

// --- high-card-duel ---------------------------------------------------------

/** `player` clicks the first playable card of their hand whenever there is one, until the game ends. */
async function playCards(player) {
  const { page } = player;
  const hand = board(page).locator('#hcd-hand');
  player.played = [];
  while (!(await page.evaluate(() => Boolean(document.querySelector('#result')?.dataset.outcome)))) {
    const card = await inFrame(page, '#board', () =>
      document.querySelector('#hcd-hand button.card:not(:disabled)')?.dataset.card || null,
    ).catch(() => null);
    if (!card) {
      await sleep(50);
      continue;
    }
    try {
      await hand.locator(`button.card[data-card="${card}"]`).click({ timeout: 2000 });
      // Wait for the state that takes it out of the hand (no double plays).
      await untilInFrame(
        page,
        '#board',
        `${player.name}: ${card} leaves the hand after the click`,
        (c) => !document.querySelector(`#hcd-hand button.card[data-card="${c}"]:not(:disabled)`),
        card,
        3000,
      );
    } catch (e) {
      // The board is redrawn on every state: a click that straddles a
      // redraw is lost (or the card is no longer playable). Look again.
      log(`${player.name}: ${card} again (${e.message.split('\n')[0]})`);
      continue;
    }
    player.played.push(card);
  }
}

/** Two `{player: value}` maps hold the same entries (in any order), and some. */
function sameScores(x, y) {
  const entries = (m) => JSON.stringify(Object.entries(m).sort(([p], [q]) => p.localeCompare(q)));
  return Object.keys(x).length > 0 && entries(x) === entries(y);
}

/** The board's rounds and scores, as the high-card-duel UI in `container` shows them. */
function readTable(page, container) {
  return inFrame(page, container, () => ({
    round: document.querySelector('#hcd-round')?.textContent,
    scores: Object.fromEntries([...document.querySelectorAll('#hcd-scores [data-player]')].map((e) => [e.dataset.player, e.dataset.score])),
    rounds: [...document.querySelectorAll('#hcd-history tr[data-round]')].map((row) => ({
      round: row.dataset.round,
      winner: row.dataset.winner,
      cards: Object.fromEntries([...row.querySelectorAll('.card[data-player]')].map((c) => [c.dataset.player, c.dataset.card])),
    })),
    seats: document.querySelectorAll('.hcd-seat').length,
  }));
}

async function highCardDuel() {
  const [a, b] = players;
  for (const player of players) await open(player, 'high-card-duel');
  check(a.account !== b.account, `two browsers, one account (${a.account})`);
  const room = await createRoom(a);
  await joinFromList(b, room, a, 'high-card-duel');
  for (const player of players) await seated(player, room, '#hcd-hand');
  log('both boards are mounted in their frames');

  // The card back is a UI asset (plugins/high-card-duel/ui/card-back.png)
  // the module loads relative to itself: the frame's CSP lets it load.
  const back = await inFrame(a.page, '#board', async () => {
    const card = document.querySelector('.card.back');
    const url = card && /url\("?([^")]+)"?\)/.exec(getComputedStyle(card).backgroundImage);
    if (!url) return { error: `no background image on ${card ? 'the card back' : 'any .card.back'}` };
    const image = new Image();
    image.src = url[1];
    try {
      await image.decode();
    } catch (e) {
      return { url: url[1], error: String(e) };
    }
    return { url: url[1], width: image.naturalWidth };
  });
  check(back.width > 0 && back.url.endsWith('/ui/card-back.png'), `the card back asset did not load: ${JSON.stringify(back)}`);
  log(`the card back asset loaded in the frame (${back.url}, ${back.width} px wide)`);

  await Promise.all(players.map((player) => playCards(player)));
  for (const player of players) log(`${player.name} played ${player.played.join(' ')}`);

  const live = await readTable(a.page, '#board');
  const liveB = await readTable(b.page, '#board');
  const status = (await info(a.page)).last.status;
  check(status.state === 'finished', `the game is ${status.state}, expected finished`);
  check(live.round === 'Game over', `${a.name}'s board says ${JSON.stringify(live.round)} at the end`);
  check(live.rounds.length === 5, `${a.name}'s history has ${live.rounds.length} rounds, expected 5`);
  check(liveB.rounds.length === 5, `${b.name}'s history has ${liveB.rounds.length} rounds, expected 5`);
  check(sameScores(live.scores, liveB.scores), `the two boards disagree on the scores: ${JSON.stringify(live.scores)} / ${JSON.stringify(liveB.scores)}`);
  const outcomes = {};
  for (const player of players) {
    const { outcome, text } = await outcomeOf(player.page);
    outcomes[player.name] = outcome;
    const won = (status.winners || []).includes(player.account);
    const expected = status.winners.length === 0 ? 'draw' : won ? 'win' : 'lose';
    check(outcome === expected, `${player.name}'s outcome is ${outcome} (${text}), expected ${expected}`);
  }
  log(`live: scores ${JSON.stringify(live.scores)}, outcomes ${JSON.stringify(outcomes)}, winners ${JSON.stringify(status.winners)}`);

  // The replay: the archived game, played back to its last frame.
  await a.page.click('#back');
  await until(a.page, `${a.name}: back in the lobby`, () => !document.querySelector('#lobby').hidden);
  const entry = a.page.locator(`#archived-games li[data-game-id="${room}"]`);
  for (let attempt = 0; ; attempt++) {
    await a.page.click('#refresh-games');
    try {
      await entry.waitFor({ state: 'visible', timeout: 500 });
      break;
    } catch {
      // archival is asynchronous
      if (attempt >= 20) throw new Error(`game ${room} is not among the archived games: ${JSON.stringify(await a.page.locator('#archived-games').innerText())}`);
    }
  }
  const first = await a.page.locator('#archived-games li[data-game-id]').first().getAttribute('data-game-id');
  check(first === room, `the first archived game is ${first}, not the game just played (${room})`);
  await entry.locator('button.watch-replay').click();
  await until(a.page, `${a.name}: the replay viewer opens`, () => !document.querySelector('#replay').hidden && document.querySelector('#lobby').hidden);
  await untilInFrame(a.page, '#replay-board', 'the replay board frame mounts', () => !!document.querySelector('#hcd-round'));
  await a.page.click('#replay-end');
  await until(a.page, 'the replay at its last frame', () => document.querySelector('#replay').dataset.atEnd === 'true');
  const replayed = await untilInFrame(
    a.page,
    '#replay-board',
    'the replay board shows the final position (Game over, 5 rounds)',
    () => document.querySelector('#hcd-round')?.textContent === 'Game over' && document.querySelectorAll('#hcd-history tr[data-round]').length === 5,
  ).then(() => readTable(a.page, '#replay-board'));
  check(replayed.seats === 2, `the replay board shows ${replayed.seats} .hcd-seat (the spectator's table), expected 2`);
  check(sameScores(replayed.scores, live.scores), `replay scores ${JSON.stringify(replayed.scores)}, live ${JSON.stringify(live.scores)}`);
  const winners = (rows) => rows.map((row) => `${row.round}:${row.winner}`).join(' ');
  check(winners(replayed.rounds) === winners(live.rounds), `replay rounds ${winners(replayed.rounds)}, live ${winners(live.rounds)}`);
  check(
    replayed.rounds.every((row, i) => sameScores(row.cards, live.rounds[i].cards)),
    `replay cards ${JSON.stringify(replayed.rounds)}, live ${JSON.stringify(live.rounds)}`,
  );
  const result = await a.page.evaluate(() => {
    const line = document.querySelector('#replay-result');
    return { hidden: line.hidden, text: line.textContent, outcome: line.dataset.outcome };
  });
  check(!result.hidden && result.text, `the replay's result line is ${result.hidden ? 'hidden' : 'empty'}`);
  if (status.winners.length === 0) {
    check(result.outcome === 'draw', `the replay's result is ${JSON.stringify(result)}, the game was a draw`);
  } else {
    const winner = players.find((p) => p.account === status.winners[0]);
    check(result.outcome === 'finished' && (result.text.includes(winner.account) || result.text.includes(winner.name)),
      `the replay's result is ${JSON.stringify(result)}, ${winner.name} (${winner.account}) won`);
  }
  log(`replay at its end: ${replayed.round}, scores ${JSON.stringify(replayed.scores)}, result ${JSON.stringify(result.text)}`);
  await a.page.screenshot({ path: join(outDir, 'replay.png'), fullPage: true });
  log(`screenshot of the replay written to ${join(outDir, 'replay.png')}`);

  await a.page.click('#replay-start');
  await until(a.page, 'the replay at its first frame', () =>
    document.querySelector('#replay').dataset.atEnd === 'false' && document.querySelector('#replay-timeline').value === '0',
  );
  await untilInFrame(a.page, '#replay-board', 'no revealed round on the first frame', () =>
    document.querySelector('#hcd-history tr[data-round]') === null && document.querySelector('#hcd-round')?.textContent !== 'Game over',
  );
  log(`first frame: ${JSON.stringify(await inFrame(a.page, '#replay-board', () => document.body.innerText.replace(/\s+/g, ' ').slice(0, 80)))}`);
}

// --- hostile ----------------------------------------------------------------

const PROBES = ['localStorage', 'sessionStorage', 'cookie', 'parent-document', 'top-navigation', 'fetch', 'websocket', 'indexedDB'];
const SECRET = `secret-${suffix}`;

/** Plant a secret where a frame that escaped its sandbox would find it (key `x`, which the probes read). */
async function plantSecrets(page) {
  await page.evaluate((secret) => {
    localStorage.setItem('x', secret);
    sessionStorage.setItem('x', secret);
    document.cookie = `x=${secret}; path=/`;
  }, SECRET);
}

async function checkProbes(player) {
  await untilInFrame(player.page, '#board', `${player.name}: the hostile board's probes finish`, () => document.body.dataset.probesDone === 'true', undefined, 10_000);
  const probes = await inFrame(player.page, '#board', () =>
    [...document.querySelectorAll('ul#probes > li[data-probe]')].map((li) => ({ name: li.dataset.probe, outcome: li.dataset.outcome, text: li.textContent })),
  );
  const problems = [];
  for (const name of PROBES) {
    const probe = probes.find((p) => p.name === name);
    if (!probe) problems.push(`${name}: missing`);
    else if (probe.outcome !== 'blocked') problems.push(`${name}: ${probe.outcome} (${probe.text})`);
  }
  for (const probe of probes) {
    if (probe.text.includes(SECRET)) problems.push(`${probe.name} read the host page's secret (${probe.text})`);
  }
  check(problems.length === 0, `${player.name}'s board frame got out of its sandbox:\n  ${problems.join('\n  ')}\nall probes: ${JSON.stringify(probes, null, 1)}`);
  for (const probe of probes) log(`${player.name}: blocked ${probe.text}`);
  // Nothing changed on the host page's side either.
  const host = await player.page.evaluate(async () => ({
    local: localStorage.getItem('x'),
    session: sessionStorage.getItem('x'),
    cookie: document.cookie,
    databases: indexedDB.databases ? (await indexedDB.databases()).map((d) => d.name) : [],
    title: document.title,
    path: location.pathname,
  }));
  check(
    host.local === SECRET && host.session === SECRET && host.cookie.includes(`x=${SECRET}`) &&
      !host.databases.includes('hostile-ui-probe') && host.title === 'Arcade' && host.path === '/',
    `the host page changed under the hostile board: ${JSON.stringify(host)}`,
  );
}

/** `player` (mark `mark`) takes `cell` on their turn by clicking it in the board frame; both boards then show it. */
async function playCell(player, mark, cell) {
  await until(player.page, `${player.name}: "Your turn" before cell ${cell}`, () =>
    /^Your turn/.test(document.querySelector('#turn')?.textContent || ''),
  );
  await board(player.page).locator(`button.cell[data-cell="${cell}"]`).click();
  for (const other of players) {
    await untilInFrame(
      other.page,
      '#board',
      `${other.name}: ${mark} shown in cell ${cell}`,
      ([c, m]) => document.querySelector(`button.cell[data-cell="${c}"]`)?.dataset.mark === m,
      [cell, mark],
    );
  }
  log(`${player.name} (${mark}) took cell ${cell}`);
}

async function hostile() {
  const [a, b] = players;
  expectedErrors.push('hostile UI threw on purpose');
  for (const player of players) await open(player, 'tic-tac-toe');
  check(a.account !== b.account, `two browsers, one account (${a.account})`);
  for (const player of players) await plantSecrets(player.page);
  const room = await createRoom(a);
  await joinFromList(b, room, a, 'tic-tac-toe 2.0.0');
  for (const player of players) await seated(player, room, 'ul#probes');
  const welcome = (await info(a.page)).welcome;
  check(welcome.game === 'tic-tac-toe' && welcome.version === '2.0.0', `the room plays ${welcome.game} ${welcome.version}, expected tic-tac-toe 2.0.0`);
  log('both hostile boards are mounted in their frames');

  for (const player of players) await checkProbes(player);
  log(`every probe (${PROBES.join(', ')}) was blocked on both pages; the host pages are untouched`);

  // The board still plays: X takes the top row, O plays 3 and 4.
  const view = (await info(a.page)).last.view;
  const markOf = (player) => Object.keys(view.players).find((mark) => view.players[mark] === player.account);
  const x = players.find((p) => markOf(p) === 'X');
  const o = players.find((p) => markOf(p) === 'O');
  check(x && o, `expected one X and one O, got ${JSON.stringify(view.players)}`);
  await playCell(x, 'X', 0);
  await playCell(o, 'O', 3);
  await playCell(x, 'X', 1);
  await playCell(o, 'O', 4);

  // A flood of actions from A's board: dropped and reported, the room untouched.
  const before = await Promise.all(players.map(async (p) => (await info(p.page)).last.seq));
  const connectsBefore = (await info(a.page)).connects;
  await recordStatus(a.page);
  await board(a.page).locator('#flood').click();
  await untilStatus(a.page, `${a.name}: the status line reports the flood`, 'error', /too many actions/);
  await sleep(1000); // the few forwarded bogus actions are refused by the room meanwhile
  const afterFlood = await Promise.all(players.map((p) => info(p.page)));
  const statusLog = await a.page.evaluate(() => window.__statusLog);
  const refusals = statusLog.filter((entry) => entry.kind === 'error' && /^Error /.test(entry.text)).length;
  log(`${a.name}'s status line after the flood: ${JSON.stringify([...new Set(statusLog.map((e) => `${e.kind}: ${e.text}`))])} (${refusals} refusals shown)`);
  afterFlood.forEach((now, i) => {
    check(now.last.seq === before[i], `${players[i].name}: seq went from ${before[i]} to ${now.last.seq} after the flood`);
    check(now.last.status.state === 'playing', `${players[i].name}: the game is ${now.last.status.state} after the flood`);
    check(now.connection === 'connected', `${players[i].name}: the connection is ${now.connection} after the flood`);
  });
  check(afterFlood[0].connects === connectsBefore, `${a.name}'s socket was reopened during the flood (${connectsBefore} → ${afterFlood[0].connects} connects)`);
  log(`the flood was reported, seq stays ${before[0]}, the room plays on`);

  // A's board throws: the status line says so; the page goes on.
  await board(a.page).locator('#throw').click();
  await untilStatus(a.page, `${a.name}: the status line reports the thrown error`, 'error', /hostile UI threw on purpose/);
  log(`the thrown error is shown: ${JSON.stringify(await a.page.locator('#status').innerText())}`);

  await playCell(x, 'X', 2);
  for (const player of players) {
    const { outcome, text } = await untilOutcome(player);
    const expected = player === x ? 'win' : 'lose';
    check(outcome === expected, `${player.name}'s outcome is ${outcome} (${text}), expected ${expected}`);
  }
  const end = await Promise.all(players.map(async (p) => (await info(p.page)).last.seq));
  end.forEach((seq, i) => check(seq === before[i] + 1, `${players[i].name}: seq ${before[i]} → ${seq}, expected one more move only`));
  log(`X won; seq ${before[0]} → ${end[0]}: only the legitimate move counted`);

  await a.page.click('#back');
  await until(a.page, `${a.name}: back in the lobby`, () => !document.querySelector('#lobby').hidden && document.querySelector('#table').hidden);
  await a.page.click('#refresh-rooms');
  log(`${a.name} is back in the lobby`);
}

async function main() {
  browser = await launch();
  if (which === 'arena') await arena();
  else if (which === 'high-card-duel') await highCardDuel();
  else await hostile();
  await sleep(200); // errors thrown late still count
  check(pageErrors.length === 0, `uncaught errors in the pages:\n${pageErrors.join('\n')}`);
}

let code = 0;
try {
  await main();
  console.log(`PASS ${which}`);
} catch (error) {
  code = 1;
  console.error(`FAIL ${which}: ${error.message}`);
  for (const player of players) await dump(player);
  if (pageErrors.length) console.error(`uncaught page errors:\n${pageErrors.join('\n')}`);
} finally {
  clearTimeout(watchdog);
  if (browser) await browser.close().catch(() => {});
}
process.exit(code);
