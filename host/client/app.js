// The Arcade browser client: list games, find a match (or create, join or
// spectate a room, or pick an open one), play over the room WebSocket, and
// watch archived games in the replay viewer. Plain ES modules in modules/,
// no build step: this file wires the page's buttons to them and resumes a
// seat or a search after a reload. No game is known here: each game's board
// is its own UI module, run in a sandboxed frame (modules/board.js).
//
// - Seats live in sessionStorage (`arcade.seat`: node, room, token, player,
//   game), so a reload resumes the seat; a ticket being searched for too,
//   with the secret the server gave for it.
// - The player signs in as a guest of this browser (modules/account.js).
// - `window.arcade` is a small debug/test hook: `dropConnection()`, `info()`.

import { $, NAME_KEY, SEAT_KEY, TICKET_KEY, load, state } from './modules/state.js';
import { setStatus } from './modules/status.js';
import { signIn } from './modules/account.js';
import { describeGame, loadGames } from './modules/lobby.js';
import { showLadder } from './modules/ladder.js';
import { cancelMatch, findMatch, showSearching, watchTicket } from './modules/matchmaking.js';
import { connect, createRoom, enterRoom, exitRoom, joinRoom, leaveRoom, sendAction, spectateRoom } from './modules/room.js';
import { showOpenRooms } from './modules/open-rooms.js';
import { showArchivedGames, wireReplayControls } from './modules/replays.js';

function sendTypedAction() {
  const text = $('action').value.trim();
  if (!text) {
    setStatus('Type an action as JSON first.', 'error');
    return;
  }
  let action;
  try {
    action = JSON.parse(text);
  } catch (e) {
    setStatus(`The action is not JSON: ${e.message}`, 'error');
    return;
  }
  sendAction(action);
}

$('find-match').addEventListener('click', findMatch);
$('cancel-match').addEventListener('click', cancelMatch);
$('create-room').addEventListener('click', createRoom);
$('join-room').addEventListener('click', () => joinRoom());
$('spectate-room').addEventListener('click', () => spectateRoom());
$('game').addEventListener('change', () => {
  describeGame();
  refreshLobby();
});
const openRoomActions = { join: (id) => joinRoom(id), watch: (id) => spectateRoom(id) };
$('refresh-rooms').addEventListener('click', () => showOpenRooms(openRoomActions));
$('more-rooms').addEventListener('click', () => showOpenRooms(openRoomActions, true));
$('refresh-games').addEventListener('click', () => showArchivedGames());
$('more-games').addEventListener('click', () => showArchivedGames(true));
$('my-archive').addEventListener('change', () => showArchivedGames());
wireReplayControls();
$('refresh-ladder').addEventListener('click', () => showLadder().catch((e) => console.warn('ladder:', e.message)));
$('send-action').addEventListener('click', sendTypedAction);
$('leave').addEventListener('click', leaveRoom);
$('back').addEventListener('click', () => {
  exitRoom();
  setStatus('Back in the lobby.');
  refreshLobby();
});

/** The chosen game's ladder, open rooms and archived games. */
function refreshLobby() {
  showLadder().catch((e) => console.warn('ladder:', e.message));
  showOpenRooms(openRoomActions);
  showArchivedGames();
}
window.addEventListener('online', () => {
  if (state.seat && !state.ws) connect();
});

window.arcade = {
  /** Drop the room WebSocket as a network failure would (the client then reconnects). */
  dropConnection() {
    if (!state.ws) return false;
    state.ws.close(4000, 'dropped by window.arcade.dropConnection()');
    return true;
  },
  /** A snapshot of the client's state, for tests and debugging. */
  info() {
    return {
      account: state.account ? { ...state.account } : null,
      seat: state.seat ? { ...state.seat } : null,
      connection: state.conn,
      connects: state.connects,
      attempts: state.attempts,
      over: state.over,
      welcome: state.welcome,
      last: state.last,
      ticket: state.ticket ? { ...state.ticket } : null,
    };
  },
};

$('name').value = load(NAME_KEY) || '';
// The ladder needs both the account (the player's own line) and the games.
Promise.allSettled([signIn(), loadGames()]).then(refreshLobby);
const seat = load(SEAT_KEY);
const ticket = load(TICKET_KEY);
if (seat && seat.node && seat.room) {
  setStatus(`Resuming room ${seat.room}…`);
  enterRoom(seat);
} else if (ticket && ticket.id && ticket.secret) {
  state.ticket = ticket;
  showSearching(true);
  setStatus(`Resuming the search for a ${ticket.game} match…`);
  watchTicket();
}
