// Drawing the table from the last `state` message: who you are, whose turn,
// the result, the events, and the board. The board is the game's own UI
// module (published with its rules) in a sandboxed frame (board.js); a game
// without one shows its view as JSON with its legal actions as buttons and
// a box to type an action. Nothing here knows any particular game.

import { $, state } from './state.js';
import { mountBoard, uiUrl } from './board.js';
import { setStatus } from './status.js';

/** A player's display name (the id until the room has said it). */
export function nameOf(id, names = state.names) {
  return (names && names[id]) || id;
}

/** The turn line and the result line for `status`, as `me` sees it. */
export function describeStatus(status, me, names) {
  if (!status) return { turn: 'Waiting for the room…', myTurn: false };
  const name = (id) => nameOf(id, names);
  switch (status.state) {
    case 'waiting_for_players': {
      const seated = status.seated || [];
      const who = seated.length ? `: ${seated.map(name).join(', ')}` : '';
      return { turn: `Waiting for players (${seated.length}/${status.seats} seated${who})`, myTurn: false };
    }
    case 'playing': {
      const awaiting = status.awaiting || [];
      const myTurn = Boolean(me && awaiting.includes(me));
      const others = awaiting.filter((p) => p !== me).map(name);
      const turn = myTurn
        ? `Your turn${others.length ? ` (also waiting for ${others.join(', ')})` : ''}`
        : `Waiting for ${others.join(', ') || 'the game'}`;
      return { turn, myTurn };
    }
    case 'finished': {
      const winners = status.winners || [];
      if (!winners.length) {
        const summary = status.summary && status.summary !== 'draw' ? ` (${status.summary})` : '';
        return { turn: 'Game over', myTurn: false, result: `Draw${summary}`, outcome: 'draw' };
      }
      const mine = me ? (winners.includes(me) ? ' — you win!' : ' — you lose') : '';
      const verb = winners.length > 1 ? 'win' : 'wins';
      const outcome = me ? (winners.includes(me) ? 'win' : 'lose') : 'finished';
      return { turn: 'Game over', myTurn: false, result: `${winners.map(name).join(' and ')} ${verb}${mine}`, outcome };
    }
    case 'aborted':
      return { turn: 'Game over', myTurn: false, result: `Game aborted (${status.code}): ${status.reason}`, outcome: 'aborted' };
    default:
      return { turn: '', myTurn: false };
  }
}

/** Fill a turn line and a result line (elements) from `status`. */
export function showStatusLines(turnLine, resultLine, status, me, names) {
  const described = describeStatus(status, me, names);
  turnLine.textContent = described.turn;
  turnLine.dataset.mine = String(described.myTurn);
  resultLine.hidden = !described.result;
  resultLine.textContent = described.result || '';
  resultLine.dataset.outcome = described.outcome || '';
  return described;
}

/**
 * The board area of a table: the game's UI in a frame when its version has
 * one, else the JSON view. `send` acts (null: watching or replaying).
 * Returns `{ show(frameState), destroy() }`.
 */
export function boardArea({ board, generic, view, legal, onError }, send) {
  let mounted = null;
  let wanted = null; // `game@version` whose UI is mounted or being looked up
  let latest = null;

  function showGeneric(frameState) {
    board.replaceChildren();
    generic.hidden = !frameState.view;
    if (!frameState.view) return;
    view.textContent = JSON.stringify(frameState.view, null, 2);
    const buttons = (frameState.legal_actions || []).slice(0, 60).map((action) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'legal';
      button.textContent = JSON.stringify(action);
      button.disabled = !send;
      button.addEventListener('click', () => send && send(action));
      return button;
    });
    legal.replaceChildren(...buttons);
  }

  async function lookUp(key, game, version) {
    let url = null;
    try {
      url = await uiUrl(game, version);
    } catch (e) {
      console.warn('ui lookup:', e.message);
    }
    if (wanted !== key) return;
    if (url) {
      generic.hidden = true;
      mounted = mountBoard(board, url, {
        onAction: (action) => {
          if (send && latest && !latest.replay) send(action);
        },
        onError,
      });
      mounted.update(latest);
    } else {
      mounted = 'none';
      showGeneric(latest);
    }
  }

  return {
    show(frameState) {
      latest = frameState;
      const key = `${frameState.game}@${frameState.version}`;
      if (key !== wanted) {
        if (mounted && mounted !== 'none') mounted.destroy();
        mounted = null;
        wanted = key;
        if (frameState.game && frameState.version) lookUp(key, frameState.game, frameState.version);
        else showGeneric(frameState);
        return;
      }
      if (mounted === 'none' || !mounted) {
        if (mounted === 'none') showGeneric(frameState);
      } else {
        mounted.update(frameState);
      }
    },
    destroy() {
      if (mounted && mounted !== 'none') mounted.destroy();
      mounted = null;
      wanted = null;
      board.replaceChildren();
    },
  };
}

let table = null;

/** What the board frame gets: the last state, and who is looking. */
function frameState(seat) {
  const last = state.last || {};
  const welcome = state.welcome || {};
  return {
    seq: last.seq ?? 0,
    status: last.status || null,
    view: last.view ?? null,
    events: last.events || [],
    legal_actions: last.legal_actions || [],
    you: seat.player || null,
    names: { ...state.names },
    game: welcome.game || seat.game || null,
    version: welcome.version || null,
    replay: false,
  };
}

export function render(send) {
  const seat = state.seat;
  if (!seat) {
    if (table) table.destroy();
    table = null;
    return;
  }
  const game = seat.game || (state.welcome && state.welcome.game) || '';
  const status = state.last ? state.last.status : null;
  const me = seat.player;

  $('table-game').textContent = game || 'room';
  $('room-id').textContent = seat.room;
  const you = $('you');
  you.dataset.player = me || '';
  you.textContent = me ? `You are ${nameOf(me)}` : 'You are watching (spectator)';
  $('players').textContent = Object.keys(state.names || {}).length
    ? `Players: ${Object.values(state.names).join(' · ')}`
    : '';
  showStatusLines($('turn'), $('result'), status, me, state.names);

  if (!table) {
    table = boardArea(
      {
        board: $('board'),
        generic: $('generic'),
        view: $('view'),
        legal: $('legal'),
        onError: (text) => setStatus(text, 'error'),
      },
      seat.token ? send : null,
    );
  }
  if (state.welcome) table.show(frameState(seat));

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

/** Forget the table's board (leaving the room). */
export function clearTable() {
  if (table) table.destroy();
  table = null;
}
