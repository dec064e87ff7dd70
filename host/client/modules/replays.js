// Archived games and the replay viewer. The lobby lists the chosen game's
// archived games (`GET /v1/games?plugin=`, or only the signed-in player's
// with `player=`); "Watch" fetches the game's frames (`GET
// /v1/games/{id}/frames`: what a spectator saw after each input, re-run by
// the server with the recorded build) and plays them through the same board
// as a live game (its UI module in the sandboxed frame, or the JSON view),
// with a timeline to step, scrub, play and pause.

import { $, enc, state } from './state.js';
import { api } from './api.js';
import { setStatus, showError } from './status.js';
import { boardArea, showStatusLines } from './render.js';

const PAGE = 10;
/** Playback follows the recorded times, within these bounds per step. */
const MIN_STEP_MS = 16;
const MAX_STEP_MS = 800;

let next = null;
const viewer = { replay: null, at: 0, timer: null, table: null };

/** List archived games of the chosen game (`mine`: only the player's own). */
export async function showArchivedGames(more = false) {
  const game = $('game').value;
  if (!game) return;
  const mine = $('my-archive').checked && state.account ? `&player=${enc(state.account.id)}` : '';
  const after = more && next ? `&after=${enc(next)}` : '';
  let page;
  try {
    ({ data: page } = await api(`/v1/games?plugin=${enc(game)}&limit=${PAGE}${mine}${after}`));
  } catch (e) {
    showError(e);
    return;
  }
  next = page.next || null;
  const items = page.games.map((game) => {
    const item = document.createElement('li');
    const id = game.game_id;
    item.dataset.gameId = id;
    const when = new Date(game.completed_at_ms).toLocaleString();
    const players = (game.players || []).join(' vs ');
    const winners = game.winners && game.winners.length ? `, won by ${game.winners.join(' and ')}` : '';
    item.append(`${when}: ${players}${winners} `);
    const watch = document.createElement('button');
    watch.type = 'button';
    watch.className = 'watch-replay';
    watch.textContent = 'Watch replay';
    watch.addEventListener('click', () => openReplay(id));
    item.append(watch);
    return item;
  });
  const list = $('archived-games');
  if (more) list.append(...items);
  else list.replaceChildren(...items);
  list.dataset.empty = String(list.children.length === 0);
  $('more-games').hidden = !next;
}

/** Open the replay viewer on archived game `id`. */
export async function openReplay(id) {
  let replay;
  try {
    setStatus(`Loading the replay of game ${id}…`);
    ({ data: replay } = await api(`/v1/games/${enc(id)}/frames`));
  } catch (e) {
    showError(e);
    return;
  }
  closeReplay(true);
  viewer.replay = replay;
  viewer.at = 0;
  viewer.table = boardArea(
    {
      board: $('replay-board'),
      generic: $('replay-generic'),
      view: $('replay-view'),
      legal: $('replay-legal'),
      onError: (text) => setStatus(text, 'error'),
    },
    null,
  );
  $('replay-id').textContent = replay.game_id;
  $('replay-game').textContent = `${replay.plugin.name} ${replay.plugin.version}`;
  const timeline = $('replay-timeline');
  timeline.max = String(replay.frames.length - 1);
  $('lobby').hidden = true;
  $('table').hidden = true;
  $('replay').hidden = false;
  setStatus(`Replaying game ${replay.game_id}: ${replay.frames.length - 1} moves and ticks.`, 'ok');
  showFrame(0);
}

function showFrame(at) {
  const replay = viewer.replay;
  if (!replay) return;
  viewer.at = Math.max(0, Math.min(replay.frames.length - 1, at));
  const frame = replay.frames[viewer.at];
  $('replay-timeline').value = String(viewer.at);
  $('replay-position').textContent = `${viewer.at} / ${replay.frames.length - 1}`;
  $('replay').dataset.atEnd = String(viewer.at === replay.frames.length - 1);
  showStatusLines($('replay-turn'), $('replay-result'), frame.status, null, replay.names || {});
  viewer.table.show({
    seq: frame.seq,
    status: frame.status,
    view: frame.view,
    events: frame.events,
    legal_actions: [],
    you: null,
    names: replay.names || {},
    game: replay.plugin.name,
    version: replay.plugin.version,
    replay: true,
  });
  const events = replay.frames
    .slice(0, viewer.at + 1)
    .flatMap((f) => f.events)
    .slice(-30)
    .reverse()
    .map((event) => {
      const item = document.createElement('li');
      item.textContent = `${event.kind} ${JSON.stringify(event.data)}`;
      return item;
    });
  $('replay-events').replaceChildren(...events);
}

function pause() {
  clearTimeout(viewer.timer);
  viewer.timer = null;
  $('replay-play').textContent = 'Play';
}

function play() {
  const replay = viewer.replay;
  if (!replay) return;
  if (viewer.at >= replay.frames.length - 1) showFrame(0);
  $('replay-play').textContent = 'Pause';
  const step = () => {
    if (viewer.at >= replay.frames.length - 1) {
      pause();
      return;
    }
    const gap = replay.frames[viewer.at + 1].at_ms - replay.frames[viewer.at].at_ms;
    viewer.timer = setTimeout(() => {
      showFrame(viewer.at + 1);
      step();
    }, Math.min(MAX_STEP_MS, Math.max(MIN_STEP_MS, gap)));
  };
  step();
}

export function closeReplay(keepPanels) {
  pause();
  if (viewer.table) viewer.table.destroy();
  viewer.table = null;
  viewer.replay = null;
  if (!keepPanels) {
    $('replay').hidden = true;
    $('lobby').hidden = false;
  }
}

/** Wire the viewer's controls (once). */
export function wireReplayControls() {
  $('replay-start').addEventListener('click', () => {
    pause();
    showFrame(0);
  });
  $('replay-prev').addEventListener('click', () => {
    pause();
    showFrame(viewer.at - 1);
  });
  $('replay-next').addEventListener('click', () => {
    pause();
    showFrame(viewer.at + 1);
  });
  $('replay-end').addEventListener('click', () => {
    pause();
    if (viewer.replay) showFrame(viewer.replay.frames.length - 1);
  });
  $('replay-play').addEventListener('click', () => (viewer.timer ? pause() : play()));
  $('replay-timeline').addEventListener('input', (event) => {
    pause();
    showFrame(Number(event.target.value));
  });
  $('replay-close').addEventListener('click', () => {
    closeReplay(false);
    setStatus('Back in the lobby.');
  });
}
