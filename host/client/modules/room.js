// A seat in a room: creating, joining or spectating it over HTTP (with the
// session: the seat is the account's), then the room WebSocket. It
// reconnects after a drop with exponential backoff and the same seat token
// (a spectator with the session's access token); close code 4307 carries the base URL of the node
// that owns the room (reconnect there); HTTP 307s are followed by fetch.

import { $, SEAT_KEY, enc, state, store } from './state.js';
import { api, trimSlash, wsUrl } from './api.js';
import { setConn, setStatus, showError } from './status.js';
import { chosenGame, playerName, roomIdInput } from './lobby.js';
import { accessToken, sessionNamed, signIn } from './account.js';
import { clearTable, render } from './render.js';

const RECONNECT_BASE_MS = 250;
const RECONNECT_MAX_MS = 8000;
/** Consecutive failed connection attempts before giving up. */
const RECONNECT_GIVE_UP = 20;
const MAX_REDIRECTS = 5;
const MAX_EVENTS = 30;

/** Draw the table; the boards send moves with `sendAction`. */
function show() {
  render(sendAction);
}

/** The room config typed in the lobby (JSON; empty: the game's defaults), or undefined when it is not JSON. */
function roomConfig() {
  const text = $('room-config').value.trim();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch (e) {
    setStatus(`The room config is not JSON: ${e.message}`, 'error');
    return undefined;
  }
}

/**
 * Seats of a room created here: others join it, so two where the game
 * allows (a game playable alone would otherwise get one seat,
 * the server's default, and start at once), else the game's minimum.
 */
function roomSeats(game) {
  const plugin = state.plugins.get(game);
  return plugin ? Math.max(plugin.min_players, Math.min(2, plugin.max_players)) : undefined;
}

export async function createRoom() {
  const name = playerName();
  const game = chosenGame();
  const config = roomConfig();
  if (!name || !game || config === undefined) return;
  try {
    const session = await sessionNamed(name);
    const body = { game, config, seats: roomSeats(game), listed: $('room-listed').checked };
    const created = await api('/v1/rooms', { method: 'POST', body, token: session.access_token });
    const room = created.data.room.id;
    const seat = created.data.seats[0];
    $('room-input').value = room;
    setStatus(`Room ${room} created: share its id so others can join.`, 'ok');
    enterRoom({ node: created.origin, room, token: seat.token, player: seat.player, game });
  } catch (e) {
    showError(e);
  }
}

export async function joinRoom(id) {
  const name = playerName();
  const room = typeof id === 'string' ? id : roomIdInput();
  if (!name || !room) return;
  try {
    const session = await sessionNamed(name);
    const joined = await api(`/v1/rooms/${enc(room)}/join`, { method: 'POST', token: session.access_token });
    const info = await api(`${joined.origin}/v1/rooms/${enc(room)}`).catch(() => null);
    setStatus(`Joined room ${room} as ${joined.data.name}.`, 'ok');
    enterRoom({
      node: joined.origin,
      room,
      token: joined.data.token,
      player: joined.data.player,
      game: info ? info.data.game : null,
    });
  } catch (e) {
    showError(e);
  }
}

export async function spectateRoom(id) {
  const room = typeof id === 'string' ? id : roomIdInput();
  if (!room) return;
  try {
    if (!(await signIn())) return;
    const info = await api(`/v1/rooms/${enc(room)}`);
    setStatus(`Watching room ${room}.`, 'ok');
    enterRoom({ node: info.origin, room, token: null, player: null, game: info.data.game });
  } catch (e) {
    showError(e);
  }
}

export async function leaveRoom() {
  const seat = state.seat;
  if (seat && seat.token && !state.over) {
    try {
      await api(`${seat.node}/v1/rooms/${enc(seat.room)}/leave`, { method: 'POST', token: seat.token });
    } catch (e) {
      if (e.code !== 'room_not_found') {
        showError(e);
        return;
      }
    }
  }
  exitRoom();
  setStatus(seat && seat.token ? `You left room ${seat.room}.` : 'Back in the lobby.');
}

export function enterRoom(seat) {
  exitRoom(true);
  clearTable();
  state.seat = seat;
  store(SEAT_KEY, seat);
  state.connects = 0;
  state.attempts = 0;
  state.redirects = 0;
  state.welcome = null;
  state.last = null;
  state.over = false;
  state.events = [];
  $('lobby').hidden = true;
  $('table').hidden = false;
  show();
  connect();
}

/** Close the socket on purpose and forget the seat. */
export function exitRoom(keepView) {
  state.wsGen++;
  clearTimeout(state.reconnectTimer);
  if (state.ws) state.ws.close(1000, 'left');
  state.ws = null;
  state.seat = null;
  store(SEAT_KEY, null);
  setConn('idle');
  if (!keepView) {
    clearTable();
    $('table').hidden = true;
    $('lobby').hidden = false;
  }
}

export function connect() {
  const seat = state.seat;
  if (!seat) return;
  clearTimeout(state.reconnectTimer);
  const gen = ++state.wsGen;
  const token = seat.token || accessToken();
  const query = token ? `?token=${enc(token)}` : '';
  let socket;
  try {
    socket = new WebSocket(wsUrl(seat.node, `/v1/rooms/${enc(seat.room)}/ws${query}`));
  } catch (e) {
    setStatus(`Cannot open a WebSocket to ${seat.node}: ${e.message}`, 'error');
    scheduleReconnect(false);
    return;
  }
  state.ws = socket;
  let opened = false;
  setConn(state.connects > 0 || state.attempts > 0 ? 'reconnecting' : 'connecting');
  socket.onopen = () => {
    if (gen !== state.wsGen) return;
    opened = true;
    state.connects += 1;
    state.attempts = 0;
    setConn('connected');
    if (state.connects > 1) setStatus('Reconnected: the game goes on.', 'ok');
  };
  socket.onmessage = (event) => {
    if (gen === state.wsGen) onRoomMessage(event.data);
  };
  socket.onclose = (event) => {
    if (gen !== state.wsGen) return;
    state.ws = null;
    onRoomClose(event, opened);
  };
}

export function onRoomClose(event, opened) {
  const seat = state.seat;
  if (!seat) return;
  if (event.code === 4307 && event.reason) {
    // The room lives on another node of the cluster: go there at once.
    state.redirects += 1;
    if (state.redirects > MAX_REDIRECTS) {
      setStatus(`Too many redirects between nodes (last: ${event.reason}).`, 'error');
      state.redirects = 0;
      scheduleReconnect(opened);
      return;
    }
    seat.node = trimSlash(event.reason);
    store(SEAT_KEY, seat);
    setConn('reconnecting', `(moving to ${seat.node})`);
    connect();
    return;
  }
  if (state.over) {
    setConn('closed', '(game over)');
    return;
  }
  if (event.code === 1009) setStatus('A message was too big; the server closed the connection.', 'error');
  scheduleReconnect(opened);
}

export function scheduleReconnect(opened) {
  clearTimeout(state.reconnectTimer);
  const attempt = state.attempts;
  state.attempts += 1;
  if (state.attempts > RECONNECT_GIVE_UP) {
    setConn('closed');
    setStatus('Could not reconnect to the room. Reload the page to try again.', 'error');
    return;
  }
  const backoff = Math.min(RECONNECT_MAX_MS, RECONNECT_BASE_MS * 2 ** attempt);
  const delay = Math.round(backoff * (0.8 + Math.random() * 0.4));
  setConn('reconnecting', `(attempt ${attempt + 1}, in ${(delay / 1000).toFixed(1)} s)`);
  const seat = state.seat;
  state.reconnectTimer = setTimeout(async () => {
    if (state.seat !== seat) return;
    // The last try never opened: ask over HTTP why (room gone? moved?).
    if (!opened && !(await probeRoom(seat))) return;
    if (state.seat === seat) connect();
  }, delay);
}

/** After a refused connection: false when the room is gone for good. */
export async function probeRoom(seat) {
  try {
    const info = await api(`${seat.node}/v1/rooms/${enc(seat.room)}`);
    if (state.seat !== seat) return false;
    if (info.origin !== seat.node) {
      seat.node = info.origin; // answered by another node after a redirect
      store(SEAT_KEY, seat);
    }
    return true;
  } catch (e) {
    if (state.seat !== seat) return false;
    if (e.status === 404) {
      setConn('closed');
      showError(e);
      store(SEAT_KEY, null);
      return false;
    }
    if (e.status === 410) {
      // room_lost: its node stopped; the room comes back if the node restarts.
      setStatus(`Error ${e.code}: ${e.message} (retrying)`, 'error');
    }
    return true; // unreachable or lost for now: keep backing off
  }
}

export function onRoomMessage(text) {
  let message;
  try {
    message = JSON.parse(text);
  } catch {
    return;
  }
  switch (message.type) {
    case 'welcome':
      state.welcome = message;
      state.names = message.names || {};
      state.redirects = 0;
      if (state.seat) {
        if (message.you && state.seat.player !== message.you) state.seat.player = message.you;
        if (!state.seat.game) state.seat.game = message.game;
        store(SEAT_KEY, state.seat);
      }
      show();
      break;
    case 'state':
      state.last = message;
      if (message.names) state.names = message.names;
      state.over = message.status.state === 'finished' || message.status.state === 'aborted';
      for (const event of message.events || []) state.events.push(event);
      state.events.splice(0, Math.max(0, state.events.length - MAX_EVENTS));
      show();
      break;
    case 'ack':
      if ($('status').dataset.kind === 'error') setStatus('');
      break;
    case 'error':
      setStatus(`Error ${message.code}: ${message.message}`, 'error');
      break;
    default:
      break;
  }
}

export function sendAction(action) {
  const seat = state.seat;
  if (!seat || !seat.token) {
    setStatus('Spectators cannot act.', 'error');
    return;
  }
  state.msgId += 1;
  const id = `c${state.msgId}`;
  if (state.ws && state.ws.readyState === WebSocket.OPEN) {
    state.ws.send(JSON.stringify({ type: 'action', id, action }));
    return;
  }
  // Not connected right now: send the same action over HTTP.
  api(`${seat.node}/v1/rooms/${enc(seat.room)}/actions`, { method: 'POST', body: action, token: seat.token })
    .then(() => setStatus('Move sent over HTTP while reconnecting.'))
    .catch(showError);
}
