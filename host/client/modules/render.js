// Drawing the table from the last `state` message: who you are, whose turn,
// the result, the events, and the board. A game with a board module in
// games/ gets its board; any other game shows its view as JSON with its
// legal actions as buttons and a box to type an action.

import { $, state } from './state.js';
import { boardFor } from './games/index.js';

/** First mover first: tic-tac-toe's X then O, connect-four's R then Y. */
const MARK_ORDER = ['X', 'O', 'R', 'Y'];

/** Your mark in `game`, when its board module knows marks. */
function drawnMark(game, view, me) {
  const drawn = boardFor(game);
  return drawn && drawn.mark && me && view ? drawn.mark(view, me) : null;
}

/** A player's display name (the id until the room has said it). */
function nameOf(id) {
  return (state.names && state.names[id]) || id;
}

export function render(send) {
  const seat = state.seat;
  if (!seat) return;
  const game = seat.game || (state.welcome && state.welcome.game) || '';
  const last = state.last;
  const view = last ? last.view : null;
  const status = last ? last.status : null;
  const me = seat.player;

  $('table-game').textContent = game || 'room';
  $('room-id').textContent = seat.room;
  const mark = drawnMark(game, view, me);
  const you = $('you');
  you.dataset.mark = mark || '';
  you.dataset.player = me || '';
  you.textContent = me ? `You are ${nameOf(me)}${mark ? ` (${mark})` : ''}` : 'You are watching (spectator)';
  $('players').textContent =
    view && view.players && !Array.isArray(view.players) && typeof view.players === 'object'
      ? Object.entries(view.players)
          .sort(([a], [b]) => MARK_ORDER.indexOf(a) - MARK_ORDER.indexOf(b))
          .map(([m, id]) => `${m}: ${nameOf(id)}`)
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
    const names = seated.map(nameOf).join(', ');
    turn.textContent = `Waiting for players (${seated.length}/${status.seats} seated${seated.length ? `: ${names}` : ''})`;
  } else if (status.state === 'playing') {
    const awaiting = status.awaiting || [];
    myTurn = Boolean(me && awaiting.includes(me));
    const others = awaiting.filter((p) => p !== me).map(nameOf);
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
      result.textContent = `${winners.map(nameOf).join(' and ')} ${winners.length > 1 ? 'win' : 'wins'}${mine}`;
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
  const drawn = boardFor(game);
  if (view && drawn && drawn.fits(view)) {
    generic.hidden = true;
    drawn.draw(board, view, { myTurn, send });
  } else {
    board.replaceChildren();
    board.className = '';
    generic.hidden = !view;
    if (view) renderGeneric(view, last.legal_actions || [], myTurn, send);
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

function renderGeneric(view, legal, myTurn, send) {
  $('view').textContent = JSON.stringify(view, null, 2);
  const buttons = legal.slice(0, 60).map((action) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'legal';
    button.textContent = JSON.stringify(action);
    button.disabled = !myTurn;
    button.addEventListener('click', () => send(action));
    return button;
  });
  $('legal').replaceChildren(...buttons);
}
