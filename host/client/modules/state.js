// What every module of the client shares: the page's state (the seat, the
// room socket and its reconnect bookkeeping, the last state message, the
// ticket being searched for), sessionStorage keys, and DOM shorthands.

export const SEAT_KEY = 'arcade.seat';
export const TICKET_KEY = 'arcade.ticket';
export const NAME_KEY = 'arcade.name';

export const $ = (id) => document.getElementById(id);
export const enc = encodeURIComponent;

export const state = {
  account: null, // {id, display_name, roles} of the signed-in player
  session: null, // {account, access_token, refresh_token, expires_at}
  names: {}, // display names of the room's players, by account id
  plugins: new Map(), // name -> latest version summary
  seat: null, // {node, room, token, player, game}
  ws: null,
  wsGen: 0, // bumps on every new socket; stale handlers check it
  conn: 'idle',
  connects: 0, // successful opens on this seat
  attempts: 0, // failed attempts since the last open
  redirects: 0, // 4307 hops since the last welcome
  reconnectTimer: null,
  welcome: null,
  last: null, // last `state` message
  over: false,
  events: [],
  msgId: 0,
  ticket: null, // {id, secret, name, game}
  ticketWs: null,
  ticketTimer: null,
  retryTimer: null,
};

export function load(key) {
  try {
    const raw = sessionStorage.getItem(key);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

export function store(key, value) {
  try {
    if (value == null) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, JSON.stringify(value));
  } catch {
    // storage disabled: the page still works, a reload just forgets.
  }
}
