// The lobby: the games the server offers (latest version of each) and the
// inputs the lobby's buttons read (name, game, room id).

import { $, NAME_KEY, state, store } from './state.js';
import { api } from './api.js';
import { setStatus, showError } from './status.js';

export function playerName() {
  const name = $('name').value.trim();
  if (!name) {
    setStatus('Enter your name first.', 'error');
    $('name').focus();
    return null;
  }
  store(NAME_KEY, name);
  return name;
}

export function chosenGame() {
  const game = $('game').value;
  if (!game) setStatus('No game to choose: the server has no plugins.', 'error');
  return game || null;
}

export function roomIdInput() {
  const id = $('room-input').value.trim();
  if (!id) {
    setStatus('Enter a room id.', 'error');
    $('room-input').focus();
    return null;
  }
  return id;
}

export function newer(a, b) {
  const parts = (v) => String(v).split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
  const [x, y] = [parts(a.version), parts(b.version)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) > (y[i] || 0);
  }
  return false;
}

export async function loadGames() {
  let plugins;
  try {
    ({ data: plugins } = await api('/v1/plugins'));
  } catch (e) {
    showError(e);
    return;
  }
  state.plugins.clear();
  for (const plugin of plugins || []) {
    const seen = state.plugins.get(plugin.name);
    if (!seen || newer(plugin, seen)) state.plugins.set(plugin.name, plugin);
  }
  const select = $('game');
  const list = $('games');
  const previous = select.value;
  select.replaceChildren();
  list.replaceChildren();
  for (const plugin of [...state.plugins.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    select.append(new Option(plugin.name, plugin.name));
    const item = document.createElement('li');
    item.dataset.game = plugin.name;
    const players =
      plugin.min_players === plugin.max_players
        ? `${plugin.min_players} players`
        : `${plugin.min_players}–${plugin.max_players} players`;
    const realtime = plugin.tick_hz > 0 ? `, real time ${plugin.tick_hz} Hz` : '';
    const title = document.createElement('b');
    title.textContent = plugin.name;
    item.append(title, ` ${plugin.version} — ${plugin.description} (${players}${realtime})`);
    item.addEventListener('click', () => {
      select.value = plugin.name;
      describeGame();
    });
    list.append(item);
  }
  if (previous && state.plugins.has(previous)) select.value = previous;
  describeGame();
  if (!state.plugins.size) setStatus('The server has no games yet.', 'error');
  else if ($('status').dataset.kind === 'info' && !state.seat && !state.ticket) {
    setStatus('Enter your name, choose a game and find a match.');
  }
}

export function describeGame() {
  const plugin = state.plugins.get($('game').value);
  $('game-info').textContent = plugin ? plugin.description : '';
}
