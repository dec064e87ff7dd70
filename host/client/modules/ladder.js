// The ladder of the chosen game: its leaderboard (top 10 of the standard
// mode, the player's own line when it is further down) and the player's
// recent rated games with each rating change. Rated games are matchmade
// ones; a game shows here once the server has archived it (about a second
// after it ends), so the view refreshes when the lobby shows and on demand.

import { $, enc, state } from './state.js';
import { api } from './api.js';

/** The mode the browser queues in (the server's default mode). */
const MODE = 'standard';
const TOP = 10;

function line(entry, you) {
  const item = document.createElement('li');
  item.value = entry.rank;
  item.dataset.player = entry.player;
  if (entry.player === you) item.classList.add('you');
  const name = document.createElement('b');
  name.textContent = entry.name || entry.player;
  item.append(
    name,
    ` ${Math.round(entry.rating)} ±${Math.round(entry.deviation)} · ${entry.wins}W ${entry.draws}D ${entry.losses}L`,
  );
  return item;
}

function gameLine(game) {
  const item = document.createElement('li');
  item.dataset.result = game.result;
  const change = game.rating_change >= 0 ? `+${game.rating_change.toFixed(1)}` : game.rating_change.toFixed(1);
  item.textContent = `${game.result} ${game.game} (${game.mode}) → ${Math.round(game.rating_after)} (${change})`;
  return item;
}

/** Shows the ladder of the game chosen in the lobby. */
export async function showLadder() {
  const game = $('game').value;
  const board = $('ladder');
  const mine = $('my-games');
  if (!game) return;
  $('ladder-game').textContent = `${game} · ${MODE}`;
  const you = state.account && state.account.id;
  try {
    const { data } = await api(`/v1/leaderboards/${enc(game)}/${MODE}?limit=${TOP}`);
    const lines = data.entries.map((entry) => line(entry, you));
    if (you && !data.entries.some((e) => e.player === you)) {
      const { data: near } = await api(`/v1/leaderboards/${enc(game)}/${MODE}?players=${enc(you)}`);
      lines.push(...near.entries.map((entry) => line(entry, you)));
    }
    board.replaceChildren(...lines);
    board.dataset.empty = String(lines.length === 0);
  } catch (e) {
    // No board for this game (no queue): nothing to show.
    board.replaceChildren();
    board.dataset.empty = 'true';
    if (e.code !== 'board_not_found') throw e;
  }
  if (!you) return;
  const { data: history } = await api(`/v1/players/${enc(you)}/games?limit=5`);
  mine.replaceChildren(...history.games.filter((g) => g.game === game).map(gameLine));
}
