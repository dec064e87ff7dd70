// The lobby's open rooms: rooms their creators listed in the lobby
// (`GET /v1/rooms?game=&state=waiting`, paged, no secrets in it), with a
// button to join one (take a seat) or watch it.

import { $, enc, state } from './state.js';
import { api } from './api.js';
import { showError } from './status.js';

const PAGE = 10;
let next = null;

/** List the chosen game's open rooms (`more`: the next page after the shown one). */
export async function showOpenRooms({ join, watch }, more = false) {
  const game = $('game').value;
  const list = $('open-rooms');
  if (!game) return;
  const after = more && next ? `&after=${enc(next)}` : '';
  let page;
  try {
    ({ data: page } = await api(`/v1/rooms?game=${enc(game)}&state=waiting&limit=${PAGE}${after}`));
  } catch (e) {
    showError(e);
    return;
  }
  next = page.next || null;
  const items = page.rooms.map((room) => {
    const item = document.createElement('li');
    item.dataset.room = room.id;
    // `names`: the seated players' display names by account id.
    const seated = Object.values(room.names || {});
    const names = seated.length ? seated.join(', ') : 'nobody yet';
    item.append(`${room.game} ${room.version} — ${names} (${seated.length}/${room.seats} seated) `);
    const joinButton = document.createElement('button');
    joinButton.type = 'button';
    joinButton.className = 'join-open-room';
    joinButton.textContent = 'Join';
    joinButton.addEventListener('click', () => join(room.id));
    const watchButton = document.createElement('button');
    watchButton.type = 'button';
    watchButton.className = 'watch-open-room';
    watchButton.textContent = 'Watch';
    watchButton.addEventListener('click', () => watch(room.id));
    item.append(joinButton, ' ', watchButton);
    return item;
  });
  if (more) list.append(...items);
  else list.replaceChildren(...items);
  list.dataset.empty = String(list.children.length === 0);
  $('more-rooms').hidden = !next;
  if (!state.plugins.size) list.dataset.empty = 'true';
}
