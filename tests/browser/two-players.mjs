// Two players in two separate headless Chromium contexts (each signed in as
// a guest of its browser: two accounts) play tic-tac-toe
// through the browser client served at `/`, by clicking the cells of the
// game's own board UI (in the sandboxed frame `#board iframe`), until X wins.
//
//   node two-players.mjs <base-url> <screenshot.png> [--rooms]
//
// By default both click "Find match" (matchmaking); with `--rooms` the first
// creates a room and the second joins it by id from a page on the server's
// other loopback name, whose room WebSocket is answered with close code 4307
// (the room is on another node) and must follow it to <base-url>. Along the way: a server error
// shows in the status line, X's WebSocket is dropped mid-game and the game
// goes on after the reconnect, and O reloads the page mid-game and resumes the
// seat from sessionStorage. With `--rooms`, the page on the other name also
// makes a cross-origin call with its seat token in an Authorization header
// (CORS preflight). After the matchmade game, the winner's page shows the
// winner first on the game's ladder and the won game, rated, in its
// history. Exits 0 after a screenshot of the winner's page;
// any failure exits 1 with a message (and each page's state on stderr).

import { launch } from './chromium.mjs';

const STEP_MS = 15_000;
const WHOLE_MS = 120_000;

const [base, screenshot, ...flags] = process.argv.slice(2);
if (!base || !screenshot) {
  console.error('usage: node two-players.mjs <base-url> <screenshot.png> [--rooms]');
  process.exit(2);
}
const flow = flags.includes('--rooms') ? 'rooms' : 'match';

const watchdog = setTimeout(() => {
  console.error(`FAIL: the whole test took longer than ${WHOLE_MS / 1000} s`);
  process.exit(1);
}, WHOLE_MS);

const suffix = Math.random().toString(36).slice(2, 7);
const players = [{ name: `alice-${suffix}` }, { name: `bob-${suffix}` }];
const pageErrors = [];
let browser;

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function log(message) {
  console.log(`[two-players] ${message}`);
}

/** Wait for `predicate(arg)` to hold in the page, with a readable failure. */
async function until(page, what, predicate, arg, timeout = STEP_MS) {
  try {
    await page.waitForFunction(predicate, arg, { timeout, polling: 20 });
  } catch (e) {
    throw new Error(`${what}: not within ${timeout} ms (${e.message.split('\n')[0]})`);
  }
}

const text = (page, selector) => page.locator(selector).innerText();

/** The board: tic-tac-toe's own UI module, in the sandboxed frame in #board. */
const board = (page) => page.frameLocator('#board iframe.board-frame');

/**
 * Wait for `predicate(arg)` to hold inside the board frame (evaluated there;
 * the frame may be replaced meanwhile, as after a reload), with a readable failure.
 */
async function untilInBoard(page, what, predicate, arg, timeout = STEP_MS) {
  const deadline = Date.now() + timeout;
  let last = 'no board frame yet';
  for (;;) {
    try {
      const frame = await (await page.$('#board iframe.board-frame'))?.contentFrame();
      if (frame) {
        if (await frame.evaluate(predicate, arg)) return;
        last = 'not yet';
      }
    } catch (e) {
      last = e.message.split('\n')[0];
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeout} ms in the board frame (${last})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function dump(player) {
  if (!player.page || player.page.isClosed()) return;
  try {
    const snapshot = await player.page.evaluate(() => ({
      status: document.querySelector('#status')?.textContent,
      conn: document.querySelector('#conn')?.textContent,
      turn: document.querySelector('#turn')?.textContent,
      result: document.querySelector('#result')?.textContent,
      you: document.querySelector('#you')?.textContent,
      info: window.arcade ? window.arcade.info() : null,
    }));
    const frame = await (await player.page.$('#board iframe.board-frame'))?.contentFrame();
    snapshot.board = frame
      ? await frame
          .evaluate(() => ({
            you: document.querySelector('#ttt-you')?.textContent,
            cells: [...document.querySelectorAll('button.cell')].map((b) => `${b.dataset.mark || '.'}${b.disabled ? '' : '*'}`).join(' '),
            error: document.querySelector('#frame-error')?.textContent,
          }))
          .catch((e) => `unreadable (${e.message})`)
      : 'no board frame';
    console.error(`--- ${player.name}: ${JSON.stringify(snapshot, null, 1)}`);
  } catch (e) {
    console.error(`--- ${player.name}: page state unavailable (${e.message})`);
  }
}

/**
 * The same server under its other loopback name: a page loaded from there
 * plays "the wrong node" of a cluster (see `bounceRoomSockets`).
 */
function otherName(url) {
  const other = new URL(url);
  other.hostname = other.hostname === 'localhost' ? '127.0.0.1' : 'localhost';
  return other.origin;
}

/**
 * Answer the page's room WebSockets to `origin` the way a node that does not
 * own the room does: close code 4307 with the owner's base URL as the reason.
 */
async function bounceRoomSockets(player, origin) {
  player.bounced = 0;
  const pattern = new RegExp(`^${origin.replace(/^http/, 'ws').replace(/[.]/g, '\\.')}/v1/rooms/[^/]+/ws`);
  await player.page.routeWebSocket(pattern, (socket) => {
    player.bounced += 1;
    socket.close({ code: 4307, reason: base });
  });
}

async function open(player, origin = base) {
  const context = await browser.newContext({ viewport: { width: 900, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on('pageerror', (error) => pageErrors.push(`${player.name}: ${error.message}`));
  player.page = page;
  if (origin !== base) await bounceRoomSockets(player, origin);
  const response = await page.goto(`${origin}/`);
  check(response && response.ok(), `GET / answered ${response && response.status()}`);
  await until(
    page,
    `${player.name}: tic-tac-toe in the game list`,
    () => !!document.querySelector('#game option[value="tic-tac-toe"]'),
  );
  // Signed in as a guest of this browser: an account, its name in the header.
  await until(page, `${player.name}: signed in as a guest`, () => {
    const account = window.arcade.info().account;
    return !!account && account.id.startsWith('acc_') &&
      document.querySelector('#account').textContent.includes(account.display_name);
  });
  player.account = await page.evaluate(() => window.arcade.info().account.id);
  await page.fill('#name', player.name);
  await page.selectOption('#game', 'tic-tac-toe');
}

/** Wait until the page is seated in a started game, then read its mark (shown in the board frame). */
async function seated(player) {
  await until(
    player.page,
    `${player.name}: seated in a started game`,
    () => {
      const you = document.querySelector('#you');
      const turn = document.querySelector('#turn')?.textContent || '';
      return you && you.dataset.player && /Your turn|Waiting for (?!players)/.test(turn);
    },
    undefined,
    30_000,
  );
  await untilInBoard(player.page, `${player.name}: the board frame shows the mark`, () =>
    Boolean(document.querySelector('#ttt-you')?.dataset.mark),
  );
  player.mark = await board(player.page).locator('#ttt-you').getAttribute('data-mark');
}

/** `player` clicks `cell` on their turn; both boards then show the mark. */
async function play(player, cell, everyone) {
  const { page, name, mark } = player;
  await until(page, `${name}: "Your turn" before cell ${cell}`, () =>
    /^Your turn/.test(document.querySelector('#turn')?.textContent || ''),
  );
  // The click waits for the cell to be enabled: the board frame has the state too.
  await board(page).locator(`button.cell[data-cell="${cell}"]`).click();
  for (const other of everyone) {
    await untilInBoard(
      other.page,
      `${other.name}: ${mark} shown in cell ${cell}`,
      ([c, m]) => document.querySelector(`button.cell[data-cell="${c}"]`)?.dataset.mark === m,
      [cell, mark],
    );
  }
  log(`${name} (${mark}) took cell ${cell}`);
}

async function main() {
  browser = await launch();
  const [first, second] = players;
  // With --rooms, the second player's page comes from "another node" that
  // redirects its room WebSocket (close 4307) to the node owning the room.
  await open(first);
  await open(second, flow === 'rooms' ? otherName(base) : base);
  check(first.account !== second.account, `two browsers, one account (${first.account})`);
  log(`signed in as guests ${first.account} and ${second.account}`);
  log(`both pages loaded (${flow} flow)`);

  // A server error shows in the status line.
  await second.page.fill('#room-input', 'no-such-room');
  await second.page.click('#join-room');
  await until(second.page, 'room_not_found shown in the status line', () => {
    const status = document.querySelector('#status');
    return status.dataset.kind === 'error' && status.textContent.includes('room_not_found');
  });
  log('a server error is shown in the status line');

  if (flow === 'match') {
    for (const player of players) await player.page.click('#find-match');
  } else {
    await first.page.click('#create-room');
    await until(first.page, 'room id shown after "Create room"', () =>
      Boolean(document.querySelector('#room-id')?.textContent),
    );
    const room = await text(first.page, '#room-id');
    await second.page.fill('#room-input', room);
    await second.page.click('#join-room');
  }
  for (const player of players) await seated(player);
  if (flow === 'rooms') {
    const node = await second.page.evaluate(() => window.arcade.info().seat.node);
    check(second.bounced === 1, `expected one 4307 redirect of ${second.name}'s room socket, got ${second.bounced}`);
    check(node === base, `after the 4307 redirect ${second.name} should play on ${base}, plays on ${node}`);
    log(`${second.name} followed the 4307 redirect to ${node}`);

    // A cross-origin authenticated call: the page, loaded from the other
    // name, POSTs an (illegal) action to the node with its seat token as a
    // bearer header. The preflight must allow `authorization` by name (a
    // `*` does not cover it), or the browser refuses to send it.
    const seat = await second.page.evaluate(() => window.arcade.info().seat);
    check(new URL(seat.node).origin !== (await second.page.evaluate(() => window.location.origin)), 'not cross-origin');
    const answer = await second.page.evaluate(async ({ node, room, token }) => {
      try {
        const response = await fetch(`${node}/v1/rooms/${encodeURIComponent(room)}/actions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ cell: 99 }),
        });
        return { status: response.status, body: await response.json() };
      } catch (error) {
        return { error: String(error) };
      }
    }, seat);
    check(!answer.error, `the cross-origin call with an Authorization header failed in the browser: ${answer.error}`);
    const code = answer.body && answer.body.error && answer.body.error.code;
    check(
      answer.status >= 400 && answer.status < 500 && code && code !== 'missing_token' && code !== 'invalid_token',
      `the cross-origin call should reach the room with the token and be refused as a move, got ${JSON.stringify(answer)}`,
    );
    log(`a cross-origin call with the seat token reached the room (${answer.status} ${code})`);
  }
  const x = players.find((p) => p.mark === 'X');
  const o = players.find((p) => p.mark === 'O');
  check(x && o, `expected one X and one O, got ${players.map((p) => `${p.name}=${p.mark}`).join(', ')}`);
  log(`${x.name} is X, ${o.name} is O`);
  check(
    (await text(o.page, '#turn')).includes(`Waiting for ${x.name}`),
    `O's page should say it waits for ${x.name}, says ${JSON.stringify(await text(o.page, '#turn'))}`,
  );
  check(await board(o.page).locator('button.cell[data-cell="4"]').isDisabled(), "O's cells are enabled on X's turn");

  // X takes the top row (0, 1, 2); O plays 3 and 4.
  await play(x, 0, players);
  await play(o, 3, players);

  // X's connection drops: the page shows it reconnecting, then resumes the seat.
  const connectsBefore = await x.page.evaluate(() => window.arcade.info().connects);
  check(await x.page.evaluate(() => window.arcade.dropConnection()), 'dropConnection() found no open socket');
  await until(x.page, 'X shows "reconnecting…"', () => {
    const conn = document.querySelector('#conn');
    return conn.dataset.state === 'reconnecting' && conn.textContent.includes('reconnecting');
  });
  await until(
    x.page,
    'X reconnected',
    (before) => window.arcade.info().connects > before && document.querySelector('#conn').dataset.state === 'connected',
    connectsBefore,
  );
  log(`${x.name} dropped the WebSocket and reconnected`);
  await play(x, 1, players);

  // O reloads the page: the seat comes back from sessionStorage.
  await o.page.reload();
  await until(o.page, 'O resumed after a reload', () => Boolean(document.querySelector('#you')?.dataset.player));
  await untilInBoard(o.page, 'O resumed after a reload (the board shows O and X in cell 1)', () =>
    document.querySelector('#ttt-you')?.dataset.mark === 'O' &&
    document.querySelector('button.cell[data-cell="1"]')?.dataset.mark === 'X',
  );
  log(`${o.name} reloaded the page and resumed the seat`);
  await play(o, 4, players);
  await play(x, 2, players);

  for (const player of players) {
    await until(
      player.page,
      `${player.name}: the result shows ${x.name} won`,
      (winner) => {
        const result = document.querySelector('#result');
        return result && !result.hidden && result.textContent.includes(`${winner} wins`);
      },
      x.name,
    );
  }
  const outcome = async (p) => p.page.locator('#result').getAttribute('data-outcome');
  check((await outcome(x)) === 'win', `X's page outcome is ${await outcome(x)}, expected win`);
  check((await outcome(o)) === 'lose', `O's page outcome is ${await outcome(o)}, expected lose`);
  check((await text(x.page, '#result')).includes('you win'), "X's page does not say you win");
  log(`both pages show "${await text(o.page, '#result')}"`);

  check(pageErrors.length === 0, `uncaught errors in the pages:\n${pageErrors.join('\n')}`);
  await x.page.screenshot({ path: screenshot, fullPage: true });
  log(`screenshot of ${x.name}'s page written to ${screenshot}`);

  if (flow === 'match') {
    // A matchmade game is rated once archived (about a second): back in the
    // lobby, X's page shows X first on the ladder and the won game in its
    // history with a rating gain.
    await x.page.click('#back');
    let shown = null;
    for (let attempt = 0; attempt < 40 && !shown; attempt++) {
      await x.page.click('#refresh-ladder');
      await new Promise((resolve) => setTimeout(resolve, 250));
      shown = await x.page.evaluate((id) => {
        const first = document.querySelector('#ladder li');
        const won = document.querySelector('#my-games li[data-result="won"]');
        return first && first.dataset.player === id && won ? { first: first.textContent, won: won.textContent } : null;
      }, x.account);
    }
    check(shown, `X's page never showed X first on the ladder with a won game: ${await text(x.page, '#ladder')} / ${await text(x.page, '#my-games')}`);
    check(shown.first.includes('1W 0D 0L') && /\(\+\d/.test(shown.won), `ladder line ${shown.first}, history ${shown.won}`);
    log(`X's ladder: "${shown.first}"; history: "${shown.won}"`);
  }
  check(pageErrors.length === 0, `uncaught errors in the pages:\n${pageErrors.join('\n')}`);
}

let code = 0;
try {
  await main();
  log('PASS');
} catch (error) {
  code = 1;
  console.error(`FAIL: ${error.message}`);
  for (const player of players) await dump(player);
  if (pageErrors.length) console.error(`uncaught page errors:\n${pageErrors.join('\n')}`);
} finally {
  clearTimeout(watchdog);
  if (browser) await browser.close().catch(() => {});
}
process.exit(code);
