// High-card duel's table UI, run by the browser client inside the sandboxed
// board frame (host/client/ui/frame.js): your hand face up, the opponent's
// face down, the two cards of this round in their slots, the revealed
// rounds and the scores. Card faces are plain DOM and CSS; the card back is
// an image published beside this module (ui/card-back.png, a UI asset).
//
// Self-contained on purpose: the frame's CSP allows no imports from
// elsewhere, so the styles are injected as a <style> element below.
//
// Player view: `{"you", "hand": [card...], "pending": card | null,
// "opponent": {"name", "hand_size", "played"}, "round", "rounds", "history",
// "scores", "awaiting", "winners"}`. Spectator view: `{"players": [{"name",
// "hand_size", "played"}, x2], "round", ...}` (no cards until revealed).
// History entry: `{"round": n, "cards": {id: card, id: card}, "winner": id |
// null}`; `round` is null and `winners` a list once the game is over.
// Cards are rank then suit: "2C", "10S", "QH", "AD". Action: `{"play": card}`.
//
// DOM contract (what tests use):
//   #hcd-round[data-current][data-rounds]  "Round 3 of 5" ("Game over" at the end)
//   #hcd-scores                            one [data-player="<id>"][data-score="n"]
//                                          per player
//   #hcd-hand                              (player) button.card[data-card="QH"]
//                                          per card in your hand, enabled iff
//                                          {play: card} is in state.legal_actions;
//                                          a click sends {play: card}
//   #hcd-your-play                         (player) your card of this round:
//                                          .card.face[data-card] when put down,
//                                          empty otherwise
//   #hcd-opponent-hand[data-count]         (player) .card.back per opponent card
//   #hcd-opponent-play[data-played]        (player) a .card.back when they played
//   .hcd-seat[data-seat="0|1"][data-player] (spectator) per player: .hcd-backs
//                                          [data-count] with .card.back each, and
//                                          .hcd-slot[data-played]
//   #hcd-history                           tbody rows tr[data-round="n"]
//                                          [data-winner="<id>" | ""] with a
//                                          .card.face[data-card][data-player]
//                                          per player
// Every card face has data-card and the class red for ♦ and ♥.

// The card back: a static asset published with this module (ui/card-back.png),
// loaded relative to it.
const CARD_BACK = new URL('./card-back.png', import.meta.url).href;

const CSS = `
.hcd { font-size: 14px; max-width: 640px; }
.hcd-top { display: flex; justify-content: space-between; align-items: baseline; gap: 12px; margin-bottom: 6px; }
#hcd-round { font-weight: 700; font-size: 16px; }
#hcd-scores { display: flex; gap: 12px; }
#hcd-scores [data-player] b { font-size: 16px; margin-left: 4px; }
.hcd-table { background: #17603a; background: radial-gradient(ellipse at center, #1f7a4a 0%, #145232 100%);
  border-radius: 12px; padding: 10px 12px; color: #f2f4f7; display: grid; gap: 10px; }
.hcd-seat { display: grid; grid-template-columns: 1fr auto; align-items: center; gap: 10px; }
.hcd-seat .hcd-name { font-weight: 600; margin-bottom: 4px; }
.hcd-seat .hcd-name small { font-weight: 400; opacity: .8; margin-left: 6px; }
.hcd-cards { display: flex; flex-wrap: wrap; gap: 6px; min-height: 4.6rem; align-items: center; }
.hcd-backs { gap: 0; }
.hcd-backs .card + .card { margin-left: -1.9rem; }
.hcd-slot { width: 3.4rem; height: 4.8rem; border: 2px dashed rgba(255,255,255,.45); border-radius: 8px;
  display: flex; align-items: center; justify-content: center; }
.hcd-slot .card { margin: 0; }
.hcd-slot-label { font-size: 11px; text-align: center; opacity: .8; margin-top: 2px; }
.hcd-hint { font-size: 12px; opacity: .85; min-height: 1em; }
.card { position: relative; box-sizing: border-box; width: 3.2rem; height: 4.6rem; border-radius: 7px; flex: none;
  background: #fff; color: #1d2330; border: 1px solid #c9ced6; box-shadow: 0 1px 3px rgba(0,0,0,.35);
  font: 700 15px/1 system-ui, sans-serif; padding: 0; user-select: none; }
.card.red { color: #c8102e; }
.card .corner { position: absolute; top: 4px; left: 5px; display: flex; flex-direction: column; align-items: center; gap: 1px; }
.card .corner.bottom { top: auto; left: auto; bottom: 4px; right: 5px; transform: rotate(180deg); }
.card .corner .s { font-size: 12px; }
.card .pip { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; font-size: 26px; }
.card.back { border: 2px solid #fff; background: #2f5bea url("${CARD_BACK}") center / cover; }
button.card { cursor: pointer; transition: transform .1s ease; }
button.card:disabled { cursor: default; filter: saturate(.6) brightness(.92); }
button.card:not(:disabled):hover, button.card:not(:disabled):focus-visible { transform: translateY(-6px); outline: 2px solid #fcc419; }
.card.small { width: 2.3rem; height: 3.2rem; font-size: 12px; }
.card.small .pip { font-size: 17px; padding-top: 10px; }
.card.small .corner .s { display: none; }
.card.small .corner.bottom { display: none; }
#hcd-history { width: 100%; border-collapse: collapse; margin-top: 8px; }
#hcd-history th, #hcd-history td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #e4e7ec; vertical-align: middle; }
#hcd-history th { font-size: 12px; color: #667085; font-weight: 600; }
#hcd-history tr.fresh td { background: #fef7c3; }
#hcd-history .won { outline: 3px solid #12b886; outline-offset: 1px; }
#hcd-history:not(:has(tbody tr)) { display: none; }
`;

const SUITS = { C: '♣', D: '♦', H: '♥', S: '♠' };

/** `"QH"` → `{rank: "Q", suit: "H"}`, or null. */
function parseCard(code) {
  const match = /^(10|[2-9JQKA])([CDHS])$/.exec(String(code));
  return match ? { rank: match[1], suit: match[2] } : null;
}

function el(tag, className = '', text = '') {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

/** A face-up card (a `div` unless `tag` says otherwise), drawn with DOM and CSS. */
function cardFace(code, { tag = 'div', small = false } = {}) {
  const card = parseCard(code);
  const node = el(tag, `card face${small ? ' small' : ''}`);
  node.dataset.card = String(code);
  if (!card) {
    node.textContent = String(code);
    return node;
  }
  const suit = SUITS[card.suit];
  if (card.suit === 'D' || card.suit === 'H') node.classList.add('red');
  for (const where of ['top', 'bottom']) {
    const corner = el('span', `corner ${where}`);
    corner.append(el('span', 'r', card.rank), el('span', 's', suit));
    corner.setAttribute('aria-hidden', 'true');
    node.append(corner);
  }
  const pip = el('span', 'pip', suit);
  pip.setAttribute('aria-hidden', 'true');
  node.append(pip);
  node.setAttribute('aria-label', `${card.rank}${suit}`);
  return node;
}

function cardBack() {
  const node = el('div', 'card back');
  node.setAttribute('aria-label', 'a card, face down');
  return node;
}

/** A row of `count` face-down cards. */
function backs(count) {
  const row = el('div', 'hcd-cards hcd-backs');
  const n = Math.max(0, Number(count) || 0);
  row.dataset.count = String(n);
  for (let i = 0; i < n; i++) row.append(cardBack());
  return row;
}

/** A play slot: a face-down card when `played`, `face` when given, else empty. */
function slot(id, label, { played = false, face = null } = {}) {
  const box = el('div', 'hcd-slot');
  if (id) box.id = id;
  box.dataset.played = String(Boolean(played || face));
  if (face) box.append(cardFace(face));
  else if (played) box.append(cardBack());
  const wrap = el('div');
  wrap.append(box, el('div', 'hcd-slot-label', label));
  return wrap;
}

export function mount(element, api) {
  const style = el('style');
  style.textContent = CSS;
  document.head.append(style);

  const root = el('div', 'hcd');
  element.replaceChildren(root);
  let lastSeq = null;
  let freshRound = null; // the round revealed by the latest state's events
  let latest = null;

  function legalCards(state) {
    const cards = new Set();
    if (!state || state.replay || !state.you) return cards;
    for (const action of state.legal_actions || []) {
      if (action && typeof action.play === 'string') cards.add(action.play);
    }
    return cards;
  }

  function render(state) {
    latest = state;
    const view = state && state.view;
    if (!view || typeof view !== 'object') {
      root.replaceChildren(el('p', 'hcd-hint', 'The cards are dealt when both players are seated.'));
      return;
    }
    if (state.seq !== lastSeq) {
      lastSeq = state.seq;
      const revealed = (state.events || []).find((event) => event && event.kind === 'round');
      freshRound = revealed && revealed.data ? revealed.data.round : null;
    }
    const names = state.names || {};
    const nameOf = (id) => (id == null ? '?' : names[id] || String(id));
    const isPlayer = Array.isArray(view.hand);
    const order = isPlayer
      ? [view.you ?? state.you, view.opponent && view.opponent.name]
      : (view.players || []).map((seat) => seat.name);
    const awaiting = new Set(view.awaiting || []);

    // Round and scores.
    const top = el('div', 'hcd-top');
    const round = el('div');
    round.id = 'hcd-round';
    round.dataset.rounds = String(view.rounds ?? '');
    round.dataset.current = String(view.round ?? '');
    round.textContent = view.round != null ? `Round ${view.round} of ${view.rounds}` : 'Game over';
    const scores = el('div');
    scores.id = 'hcd-scores';
    const scoreIds = order.filter((id) => id != null);
    for (const id of Object.keys(view.scores || {})) if (!scoreIds.includes(id)) scoreIds.push(id);
    for (const id of scoreIds) {
      const entry = el('span', '', nameOf(id));
      entry.dataset.player = id;
      const score = Number((view.scores || {})[id]) || 0;
      entry.dataset.score = String(score);
      entry.append(el('b', '', String(score)));
      scores.append(entry);
    }
    top.append(round, scores);

    // The table.
    const table = el('div', 'hcd-table');
    if (isPlayer) {
      const opponent = view.opponent || {};
      const them = el('section', 'hcd-seat hcd-opponent');
      if (opponent.name != null) them.dataset.player = opponent.name;
      const theirSide = el('div');
      const theirName = el('div', 'hcd-name', nameOf(opponent.name));
      theirName.append(el('small', '', opponent.played ? 'has played' : awaiting.has(opponent.name) ? 'choosing…' : ''));
      const theirHand = backs(opponent.hand_size);
      theirHand.id = 'hcd-opponent-hand';
      theirSide.append(theirName, theirHand);
      them.append(theirSide, slot('hcd-opponent-play', 'their card', { played: opponent.played }));

      const me = el('section', 'hcd-seat hcd-me');
      me.dataset.player = String(view.you ?? state.you ?? '');
      const mySide = el('div');
      const myName = el('div', 'hcd-name', `${nameOf(view.you ?? state.you)} (you)`);
      const legal = legalCards(state);
      const hand = el('div', 'hcd-cards');
      hand.id = 'hcd-hand';
      for (const code of view.hand) {
        const button = cardFace(code, { tag: 'button' });
        button.type = 'button';
        button.disabled = !legal.has(code);
        button.addEventListener('click', () => {
          // Send only what the last state allows (a stale click is dropped).
          if (legalCards(latest).has(code)) api.send({ play: code });
        });
        hand.append(button);
      }
      const hint = el(
        'div',
        'hcd-hint',
        legal.size ? 'Choose a card to play.' : view.pending ? 'Waiting for your opponent…' : '',
      );
      mySide.append(myName, hand, hint);
      me.append(mySide, slot('hcd-your-play', 'your card', { face: view.pending || null }));
      table.append(them, me);
    } else {
      (view.players || []).forEach((seat, index) => {
        const section = el('section', 'hcd-seat');
        section.dataset.seat = String(index);
        if (seat.name != null) section.dataset.player = seat.name;
        const side = el('div');
        const name = el('div', 'hcd-name', nameOf(seat.name));
        name.append(el('small', '', seat.played ? 'has played' : awaiting.has(seat.name) ? 'choosing…' : ''));
        side.append(name, backs(seat.hand_size));
        section.append(side, slot('', 'card played', { played: seat.played }));
        table.append(section);
      });
    }

    // The revealed rounds.
    const history = el('table');
    history.id = 'hcd-history';
    const head = el('thead');
    const headRow = el('tr');
    headRow.append(el('th', '', 'Round'), ...order.map((id) => el('th', '', nameOf(id))), el('th', '', 'Won by'));
    head.append(headRow);
    const body = el('tbody');
    for (const entry of view.history || []) {
      const row = el('tr');
      row.dataset.round = String(entry.round);
      row.dataset.winner = entry.winner == null ? '' : String(entry.winner);
      if (entry.round === freshRound) row.classList.add('fresh');
      row.append(el('td', '', String(entry.round)));
      for (const id of order) {
        const cell = el('td');
        const code = entry.cards && entry.cards[id];
        if (code) {
          const face = cardFace(code, { small: true });
          face.dataset.player = id;
          if (entry.winner === id) face.classList.add('won');
          cell.append(face);
        }
        row.append(cell);
      }
      row.append(el('td', '', entry.winner == null ? 'tie' : nameOf(entry.winner)));
      body.append(row);
    }
    history.append(head, body);

    // Keep the keyboard focus on the same card across the rebuild.
    const focused = document.activeElement;
    const focusedCard =
      focused instanceof HTMLElement && focused.matches('#hcd-hand button.card') ? focused.dataset.card : null;
    root.replaceChildren(top, table, history);
    if (focusedCard) {
      const again = [...root.querySelectorAll('#hcd-hand button.card')].find((b) => b.dataset.card === focusedCard);
      if (again && !again.disabled) again.focus();
    }
  }

  render(api.state);
  const unsubscribe = api.onState((state) => render(state));
  return () => {
    unsubscribe();
    style.remove();
    element.replaceChildren();
  };
}
