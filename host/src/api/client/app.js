// The Arcade browser client: list games, find a match (or create, join or
// spectate a room), then play over the room WebSocket. Plain JS, no build step.
//
// - Seats live in sessionStorage (`arcade.seat`: node, room, token, player,
//   game), so a reload resumes the seat; a ticket being searched for too,
//   with the secret the server gave for it (needed to poll, watch or cancel
//   it: `Authorization: Bearer`, or `?token=` on its WebSocket).
// - The room WebSocket reconnects after a drop with exponential backoff and
//   the same seat token. Close code 4307 carries the base URL of the node that
//   owns the room: reconnect there. HTTP 307s are followed by fetch.
// - `window.arcade` is a small debug/test hook: `dropConnection()`, `info()`.
'use strict';

(() => {
  const SEAT_KEY = 'arcade.seat';
  const TICKET_KEY = 'arcade.ticket';
  const NAME_KEY = 'arcade.name';
  const RECONNECT_BASE_MS = 250;
  const RECONNECT_MAX_MS = 8000;
  /** Consecutive failed connection attempts before giving up. */
  const RECONNECT_GIVE_UP = 20;
  const POLL_MS = 500;
  const MAX_REDIRECTS = 5;
  const MAX_EVENTS = 30;
  /** First mover first: tic-tac-toe's X then O, connect-four's R then Y. */
  const MARK_ORDER = ['X', 'O', 'R', 'Y'];

  const $ = (id) => document.getElementById(id);
  const enc = encodeURIComponent;

  const state = {
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

  // ---------------------------------------------------------------- helpers

  class ApiError extends Error {
    constructor(status, code, message, retryAfter) {
      super(message);
      this.status = status;
      this.code = code;
      this.retryAfter = retryAfter;
    }
  }

  /** fetch + JSON; follows redirects; throws ApiError with the server's code. */
  async function api(url, { method = 'GET', body, token } = {}) {
    const headers = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: 'follow',
      });
    } catch (e) {
      throw new ApiError(0, 'network_error', `cannot reach the server (${e.message})`);
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = text;
      }
    }
    if (!response.ok) {
      const error = data && typeof data === 'object' && data.error ? data.error : null;
      throw new ApiError(
        response.status,
        error ? error.code : `http_${response.status}`,
        error ? error.message : (typeof data === 'string' && data) || response.statusText,
        response.headers.get('retry-after'),
      );
    }
    // The origin that finally answered (after any 307) owns what was asked for.
    const origin = response.url ? new URL(response.url).origin : location.origin;
    return { data, origin, status: response.status };
  }

  function trimSlash(url) {
    return String(url).trim().replace(/\/+$/, '');
  }

  /** ws:// or wss:// URL for `path` on the node at `base` (http:// or https://). */
  function wsUrl(base, path) {
    return trimSlash(base).replace(/^http/i, 'ws') + path;
  }

  function retrySeconds(error) {
    const seconds = Number.parseInt(error.retryAfter, 10);
    return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 60) : 1;
  }

  function setStatus(text, kind = 'info') {
    const line = $('status');
    line.textContent = text;
    line.dataset.kind = kind;
  }

  function showError(error) {
    if (error instanceof ApiError && error.status === 429) {
      setStatus(`Slow down: too many requests. Try again in ${retrySeconds(error)} s.`, 'warn');
    } else if (error instanceof ApiError) setStatus(`Error ${error.code}: ${error.message}`, 'error');
    else setStatus(`Error: ${error && error.message ? error.message : error}`, 'error');
  }

  const CONN_TEXT = {
    idle: 'not connected',
    connecting: 'connecting…',
    connected: 'connected',
    reconnecting: 'reconnecting…',
    closed: 'disconnected',
  };

  function setConn(conn, detail) {
    state.conn = conn;
    const badge = $('conn');
    badge.dataset.state = conn;
    badge.textContent = detail ? `${CONN_TEXT[conn]} ${detail}` : CONN_TEXT[conn];
  }

  function load(key) {
    try {
      const raw = sessionStorage.getItem(key);
      return raw ? JSON.parse(raw) : null;
    } catch {
      return null;
    }
  }

  function store(key, value) {
    try {
      if (value == null) sessionStorage.removeItem(key);
      else sessionStorage.setItem(key, JSON.stringify(value));
    } catch {
      // storage disabled: the page still works, a reload just forgets.
    }
  }

  function playerName() {
    const name = $('name').value.trim();
    if (!name) {
      setStatus('Enter your name first.', 'error');
      $('name').focus();
      return null;
    }
    store(NAME_KEY, name);
    return name;
  }

  function chosenGame() {
    const game = $('game').value;
    if (!game) setStatus('No game to choose: the server has no plugins.', 'error');
    return game || null;
  }

  function roomIdInput() {
    const id = $('room-input').value.trim();
    if (!id) {
      setStatus('Enter a room id.', 'error');
      $('room-input').focus();
      return null;
    }
    return id;
  }

  // ---------------------------------------------------------------- games

  function newer(a, b) {
    const parts = (v) => String(v).split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
    const [x, y] = [parts(a.version), parts(b.version)];
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) > (y[i] || 0);
    }
    return false;
  }

  async function loadGames() {
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

  function describeGame() {
    const plugin = state.plugins.get($('game').value);
    $('game-info').textContent = plugin ? plugin.description : '';
  }

  // ---------------------------------------------------------------- matchmaking

  function showSearching(searching) {
    $('find-match').hidden = searching;
    $('cancel-match').hidden = !searching;
    for (const id of ['create-room', 'join-room', 'spectate-room']) $(id).disabled = searching;
  }

  async function findMatch() {
    clearTimeout(state.retryTimer);
    const name = playerName();
    const game = chosenGame();
    if (!name || !game || state.ticket) return;
    setStatus(`Queueing ${name} for ${game}…`);
    showSearching(true);
    let answer;
    try {
      answer = await api('/v1/matchmaking/tickets', {
        method: 'POST',
        body: { game, mode: 'standard', party: [name] },
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
  function onTicket(view) {
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
        const seat = seats.find((s) => s.player === ticket.name) || seats[0];
        clearTicket();
        if (!seat) {
          setStatus('Matched, but the assignment has no seat for you.', 'error');
          return true;
        }
        setStatus(`Match found: ${(match.players || []).join(' vs ')}.`, 'ok');
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
  function watchTicket() {
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

  function pollTicket(delay = POLL_MS) {
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

  function stopTicketWatch() {
    clearTimeout(state.ticketTimer);
    if (state.ticketWs) {
      const socket = state.ticketWs;
      state.ticketWs = null;
      socket.close(1000);
    }
  }

  function clearTicket() {
    state.ticket = null;
    store(TICKET_KEY, null);
    stopTicketWatch();
    clearTimeout(state.retryTimer);
    showSearching(false);
  }

  async function cancelMatch() {
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

  // ---------------------------------------------------------------- rooms over HTTP

  async function createRoom() {
    const name = playerName();
    const game = chosenGame();
    if (!name || !game) return;
    try {
      const created = await api('/v1/rooms', { method: 'POST', body: { game } });
      const room = created.data.room.id;
      const joined = await api(`${created.origin}/v1/rooms/${enc(room)}/join`, {
        method: 'POST',
        body: { name },
      });
      $('room-input').value = room;
      setStatus(`Room ${room} created: share its id so others can join.`, 'ok');
      enterRoom({ node: joined.origin, room, token: joined.data.token, player: joined.data.player, game });
    } catch (e) {
      showError(e);
    }
  }

  async function joinRoom() {
    const name = playerName();
    const room = roomIdInput();
    if (!name || !room) return;
    try {
      const joined = await api(`/v1/rooms/${enc(room)}/join`, { method: 'POST', body: { name } });
      const info = await api(`${joined.origin}/v1/rooms/${enc(room)}`).catch(() => null);
      setStatus(`Joined room ${room} as ${joined.data.player}.`, 'ok');
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

  async function spectateRoom() {
    const room = roomIdInput();
    if (!room) return;
    try {
      const info = await api(`/v1/rooms/${enc(room)}`);
      setStatus(`Watching room ${room}.`, 'ok');
      enterRoom({ node: info.origin, room, token: null, player: null, game: info.data.game });
    } catch (e) {
      showError(e);
    }
  }

  async function leaveRoom() {
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

  // ---------------------------------------------------------------- the room WebSocket

  function enterRoom(seat) {
    exitRoom(true);
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
    render();
    connect();
  }

  /** Close the socket on purpose and forget the seat. */
  function exitRoom(keepView) {
    state.wsGen++;
    clearTimeout(state.reconnectTimer);
    if (state.ws) state.ws.close(1000, 'left');
    state.ws = null;
    state.seat = null;
    store(SEAT_KEY, null);
    setConn('idle');
    if (!keepView) {
      $('table').hidden = true;
      $('lobby').hidden = false;
    }
  }

  function connect() {
    const seat = state.seat;
    if (!seat) return;
    clearTimeout(state.reconnectTimer);
    const gen = ++state.wsGen;
    const query = seat.token ? `?token=${enc(seat.token)}` : '';
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

  function onRoomClose(event, opened) {
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

  function scheduleReconnect(opened) {
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
  async function probeRoom(seat) {
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

  function onRoomMessage(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    switch (message.type) {
      case 'welcome':
        state.welcome = message;
        state.redirects = 0;
        if (state.seat) {
          if (message.you && state.seat.player !== message.you) state.seat.player = message.you;
          if (!state.seat.game) state.seat.game = message.game;
          store(SEAT_KEY, state.seat);
        }
        render();
        break;
      case 'state':
        state.last = message;
        state.over = message.status.state === 'finished' || message.status.state === 'aborted';
        for (const event of message.events || []) state.events.push(event);
        state.events.splice(0, Math.max(0, state.events.length - MAX_EVENTS));
        render();
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

  function sendAction(action) {
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

  // ---------------------------------------------------------------- rendering

  function myMark(view, game) {
    const me = state.seat && state.seat.player;
    if (!me || !view || !view.players || typeof view.players !== 'object') return null;
    if (game === 'tic-tac-toe' || game === 'connect-four') {
      return Object.keys(view.players).find((mark) => view.players[mark] === me) || null;
    }
    return null;
  }

  function render() {
    const seat = state.seat;
    if (!seat) return;
    const game = seat.game || (state.welcome && state.welcome.game) || '';
    const last = state.last;
    const view = last ? last.view : null;
    const status = last ? last.status : null;
    const me = seat.player;

    $('table-game').textContent = game || 'room';
    $('room-id').textContent = seat.room;
    const mark = myMark(view, game);
    const you = $('you');
    you.dataset.mark = mark || '';
    you.dataset.player = me || '';
    you.textContent = me ? `You are ${me}${mark ? ` (${mark})` : ''}` : 'You are watching (spectator)';
    $('players').textContent =
      view && view.players && !Array.isArray(view.players) && typeof view.players === 'object'
        ? Object.entries(view.players)
            .sort(([a], [b]) => MARK_ORDER.indexOf(a) - MARK_ORDER.indexOf(b))
            .map(([m, name]) => `${m}: ${name}`)
            .join(' · ')
        : '';

    const turn = $('turn');
    const result = $('result');
    let myTurn = false;
    result.hidden = true;
    result.dataset.outcome = '';
    if (!status) {
      turn.textContent = 'Waiting for the room…';
    } else if (status.state === 'waiting_for_players') {
      const seated = status.seated || [];
      turn.textContent = `Waiting for players (${seated.length}/${status.seats} seated${seated.length ? `: ${seated.join(', ')}` : ''})`;
    } else if (status.state === 'playing') {
      const awaiting = status.awaiting || [];
      myTurn = Boolean(me && awaiting.includes(me));
      const others = awaiting.filter((p) => p !== me);
      turn.textContent = myTurn
        ? `Your turn${others.length ? ` (also waiting for ${others.join(', ')})` : ''}`
        : `Waiting for ${others.join(', ') || 'the game'}`;
    } else if (status.state === 'finished') {
      const winners = status.winners || [];
      turn.textContent = 'Game over';
      result.hidden = false;
      if (!winners.length) {
        result.textContent = `Draw${status.summary && status.summary !== 'draw' ? ` (${status.summary})` : ''}`;
        result.dataset.outcome = 'draw';
      } else {
        const mine = me ? (winners.includes(me) ? ' — you win!' : ' — you lose') : '';
        result.textContent = `${winners.join(' and ')} ${winners.length > 1 ? 'win' : 'wins'}${mine}`;
        result.dataset.outcome = me ? (winners.includes(me) ? 'win' : 'lose') : 'finished';
      }
    } else if (status.state === 'aborted') {
      turn.textContent = 'Game over';
      result.hidden = false;
      result.textContent = `Game aborted (${status.code}): ${status.reason}`;
      result.dataset.outcome = 'aborted';
    }
    turn.dataset.mine = String(myTurn);

    const board = $('board');
    const generic = $('generic');
    if (view && game === 'tic-tac-toe' && Array.isArray(view.board)) {
      generic.hidden = true;
      renderTicTacToe(board, view, myTurn);
    } else if (view && game === 'connect-four' && Array.isArray(view.grid)) {
      generic.hidden = true;
      renderConnectFour(board, view, myTurn);
    } else {
      board.replaceChildren();
      board.className = '';
      generic.hidden = !view;
      if (view) renderGeneric(view, last.legal_actions || [], myTurn);
    }

    const events = $('events');
    events.replaceChildren(
      ...state.events
        .slice()
        .reverse()
        .map((event) => {
          const item = document.createElement('li');
          item.textContent = `${event.kind} ${JSON.stringify(event.data)}`;
          return item;
        }),
    );
    $('leave').hidden = !seat.token || state.over;
  }

  function renderTicTacToe(board, view, myTurn) {
    board.className = 'ttt';
    const cells = view.board.map((mark, cell) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'cell';
      button.dataset.cell = String(cell);
      button.dataset.mark = mark || '';
      button.textContent = mark || '';
      button.setAttribute('aria-label', `cell ${cell}${mark ? `: ${mark}` : ''}`);
      button.disabled = !myTurn || Boolean(mark);
      button.addEventListener('click', () => sendAction({ cell }));
      return button;
    });
    board.replaceChildren(...cells);
  }

  function renderConnectFour(board, view, myTurn) {
    board.className = 'c4';
    const line = new Set((view.line || []).map(([r, c]) => `${r},${c}`));
    const cells = [];
    view.grid.forEach((row, r) =>
      row.forEach((disc, column) => {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = `cell${disc ? ` disc-${disc}` : ''}${line.has(`${r},${column}`) ? ' win' : ''}`;
        button.dataset.row = String(r);
        button.dataset.col = String(column);
        button.dataset.disc = disc || '';
        button.setAttribute('aria-label', `column ${column}, row ${r}${disc ? `: ${disc}` : ''}`);
        button.disabled = !myTurn || Boolean(view.grid[0][column]);
        button.addEventListener('click', () => sendAction({ column }));
        cells.push(button);
      }),
    );
    board.replaceChildren(...cells);
  }

  function renderGeneric(view, legal, myTurn) {
    $('view').textContent = JSON.stringify(view, null, 2);
    const buttons = legal.slice(0, 60).map((action) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'legal';
      button.textContent = JSON.stringify(action);
      button.disabled = !myTurn;
      button.addEventListener('click', () => sendAction(action));
      return button;
    });
    $('legal').replaceChildren(...buttons);
  }

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

  // ---------------------------------------------------------------- start

  $('find-match').addEventListener('click', findMatch);
  $('cancel-match').addEventListener('click', cancelMatch);
  $('create-room').addEventListener('click', createRoom);
  $('join-room').addEventListener('click', joinRoom);
  $('spectate-room').addEventListener('click', spectateRoom);
  $('game').addEventListener('change', describeGame);
  $('send-action').addEventListener('click', sendTypedAction);
  $('leave').addEventListener('click', leaveRoom);
  $('back').addEventListener('click', () => {
    exitRoom();
    setStatus('Back in the lobby.');
  });
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
  loadGames();
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
})();
