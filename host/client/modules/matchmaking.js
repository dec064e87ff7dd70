// Finding a match: queue a ticket, follow it over its WebSocket (polling
// when that fails), and take the seat it is assigned. The ticket's secret
// (needed to poll, watch or cancel it) is kept in sessionStorage with it.

import { $, TICKET_KEY, enc, state, store } from './state.js';
import { api, retrySeconds, trimSlash, wsUrl } from './api.js';
import { setStatus, showError } from './status.js';
import { chosenGame, playerName } from './lobby.js';
import { enterRoom } from './room.js';
import { sessionNamed } from './account.js';

const POLL_MS = 500;

export function showSearching(searching) {
  $('find-match').hidden = searching;
  $('cancel-match').hidden = !searching;
  for (const id of ['create-room', 'join-room', 'spectate-room']) $(id).disabled = searching;
}

export async function findMatch() {
  clearTimeout(state.retryTimer);
  const name = playerName();
  const game = chosenGame();
  if (!name || !game || state.ticket) return;
  setStatus(`Queueing ${name} for ${game}…`);
  showSearching(true);
  let answer;
  try {
    const session = await sessionNamed(name);
    answer = await api('/v1/matchmaking/tickets', {
      method: 'POST',
      body: { game, mode: 'standard' },
      token: session.access_token,
    });
  } catch (e) {
    if (e.status === 429) {
      const seconds = retrySeconds(e);
      setStatus(`Slow down: too many requests. Retrying in ${seconds} s…`, 'warn');
      state.retryTimer = setTimeout(() => {
        showSearching(false);
        findMatch();
      }, seconds * 1000);
      return;
    }
    showSearching(false);
    showError(e);
    return;
  }
  state.ticket = { id: answer.data.ticket.id, secret: answer.data.secret, name, game };
  store(TICKET_KEY, state.ticket);
  if (!onTicket(answer.data)) watchTicket();
}

/** Handle a ticket view; true when the search is over (matched with a room, expired, cancelled, failed). */
export function onTicket(view) {
  const ticket = state.ticket;
  if (!ticket) return true;
  if (!view || (view.ticket && view.ticket.id !== ticket.id)) return false;
  switch (view.status) {
    case 'waiting':
      setStatus(`Looking for a ${ticket.game} match for ${ticket.name}…`);
      return false;
    case 'matched': {
      const match = view.match || {};
      const assignment = match.assignment;
      if (!assignment) {
        setStatus('Match found! Setting up the room…');
        return false;
      }
      const seats = assignment.seats || [];
      const me = state.account ? state.account.id : null;
      const seat = seats.find((s) => s.player === me) || seats[0];
      clearTicket();
      if (!seat) {
        setStatus('Matched, but the assignment has no seat for you.', 'error');
        return true;
      }
      setStatus(`Match found: ${(match.players || []).length} players.`, 'ok');
      enterRoom({
        node: trimSlash(assignment.node_url || location.origin),
        room: assignment.room_id,
        token: seat.token,
        player: seat.player,
        game: match.game || ticket.game,
      });
      return true;
    }
    case 'expired':
      clearTicket();
      setStatus('No match found in time (the ticket expired). Try again.', 'error');
      return true;
    case 'cancelled':
      clearTicket();
      setStatus('Search cancelled.');
      return true;
    case 'failed':
      clearTicket();
      setStatus('A match was found but its room could not be set up. Try again.', 'error');
      return true;
    default:
      setStatus(`Unexpected ticket status ${JSON.stringify(view.status)}.`, 'error');
      return false;
  }
}

/** Follow the ticket over its WebSocket; poll every 500 ms if that fails. */
export function watchTicket() {
  stopTicketWatch();
  const ticket = state.ticket;
  if (!ticket) return;
  let socket;
  try {
    const path = `/v1/matchmaking/tickets/${enc(ticket.id)}/ws?token=${enc(ticket.secret)}`;
    socket = new WebSocket(wsUrl(location.origin, path));
  } catch {
    pollTicket(0);
    return;
  }
  state.ticketWs = socket;
  let done = false;
  socket.onmessage = (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    if (message.type === 'ticket') done = onTicket(message) || done;
    else if (message.type === 'error') setStatus(`Error ${message.code}: ${message.message}`, 'error');
  };
  socket.onclose = () => {
    if (state.ticketWs !== socket) return;
    state.ticketWs = null;
    // Closed before a final status (or never opened): fall back to polling.
    if (!done && state.ticket && state.ticket.id === ticket.id) pollTicket(0);
  };
}

export function pollTicket(delay = POLL_MS) {
  clearTimeout(state.ticketTimer);
  state.ticketTimer = setTimeout(async () => {
    const ticket = state.ticket;
    if (!ticket) return;
    try {
      const { data } = await api(`/v1/matchmaking/tickets/${enc(ticket.id)}`, { token: ticket.secret });
      if (state.ticket === ticket && !onTicket(data)) pollTicket();
    } catch (e) {
      if (state.ticket !== ticket) return;
      if (e.status === 429) {
        const seconds = retrySeconds(e);
        setStatus(`Slow down: too many requests. Checking again in ${seconds} s…`, 'warn');
        pollTicket(seconds * 1000);
      } else if (e.status === 404 || e.status === 401) {
        // Gone, or not ours (a ticket is read with its secret only).
        clearTicket();
        showError(e);
      } else {
        showError(e);
        pollTicket(2000);
      }
    }
  }, delay);
}

export function stopTicketWatch() {
  clearTimeout(state.ticketTimer);
  if (state.ticketWs) {
    const socket = state.ticketWs;
    state.ticketWs = null;
    socket.close(1000);
  }
}

export function clearTicket() {
  state.ticket = null;
  store(TICKET_KEY, null);
  stopTicketWatch();
  clearTimeout(state.retryTimer);
  showSearching(false);
}

export async function cancelMatch() {
  const ticket = state.ticket;
  clearTicket();
  if (!ticket) return;
  try {
    await api(`/v1/matchmaking/tickets/${enc(ticket.id)}`, { method: 'DELETE', token: ticket.secret });
    setStatus('Search cancelled.');
  } catch (e) {
    showError(e);
  }
}
