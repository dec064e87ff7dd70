// Tic-tac-toe's board UI, run by the browser client inside the sandboxed
// board frame (host/client/ui/frame.js): nine cells, X and O.
//
// Self-contained on purpose: the frame's CSP allows no imports from
// elsewhere, so the styles are injected as a <style> element below.
//
// View (the same for everyone): `{"board": [9 x "X" | "O" | null],
// "players": {"X": id, "O": id}, "next": id | null, "rules_version"}`.
// Action: `{"cell": n}` with n in 0..=8, row by row from the top left.
//
// DOM contract (what tests use):
//   div.ttt                     the board
//   button.cell[data-cell="n"]  one per cell, n = 0..8;
//                               data-mark="X" | "O" | "" (empty cell);
//                               disabled unless {cell: n} is in
//                               state.legal_actions (so when it is not your
//                               turn, the cell is taken, or you only watch);
//                               a click sends {cell: n}
//   #ttt-you[data-mark]         "You are X" / "You are O"; for a spectator
//                               or a replay "X: ann · O: bob" and data-mark=""

const CSS = `
.ttt-wrap { display: inline-block; }
.ttt {
  display: grid;
  grid-template-columns: repeat(3, 5rem);
  grid-template-rows: repeat(3, 5rem);
  gap: 0.35rem;
  margin: 0.5rem 0;
}
.ttt .cell {
  font: 700 2.5rem/1 system-ui, sans-serif;
  background: #fff;
  border: 2px solid #d0d5dd;
  border-radius: 0.35rem;
  color: #1d2330;
  opacity: 1;
  padding: 0;
  cursor: pointer;
}
.ttt .cell:disabled { cursor: default; }
.ttt .cell:not(:disabled):hover,
.ttt .cell:not(:disabled):focus-visible {
  border-color: #2f5bea;
  background: #eef2ff;
  outline: none;
}
.ttt .cell[data-mark="X"] { color: #2f5bea; }
.ttt .cell[data-mark="O"] { color: #d92d20; }
.ttt-you { margin: 0; font-size: 0.85rem; color: #667085; }
.ttt-you[data-mark="X"] b { color: #2f5bea; }
.ttt-you[data-mark="O"] b { color: #d92d20; }
`;

/** The mark `me` plays in `view` ("X" or "O"), or null. */
function markOf(view, me) {
  if (!me || !view || !view.players || typeof view.players !== 'object') return null;
  return Object.keys(view.players).find((mark) => view.players[mark] === me) || null;
}

/** The cells `state` lets this viewer play now. */
function playableCells(state) {
  const cells = new Set();
  if (!state || state.replay || !state.you) return cells;
  for (const action of state.legal_actions || []) {
    if (action && Number.isInteger(action.cell)) cells.add(action.cell);
  }
  return cells;
}

export function mount(element, api) {
  const style = document.createElement('style');
  style.textContent = CSS;
  document.head.append(style);

  const wrap = document.createElement('div');
  wrap.className = 'ttt-wrap';
  const you = document.createElement('p');
  you.id = 'ttt-you';
  you.className = 'ttt-you';
  const board = document.createElement('div');
  board.className = 'ttt';
  board.setAttribute('role', 'grid');
  board.setAttribute('aria-label', 'tic-tac-toe board');
  wrap.append(board, you);
  element.replaceChildren(wrap);

  let latest = null;
  const buttons = [];

  function cellButton(cell) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'cell';
    button.dataset.cell = String(cell);
    button.dataset.mark = '';
    button.disabled = true;
    button.addEventListener('click', () => {
      // Send only what the last state allows (a stale click is dropped).
      if (playableCells(latest).has(cell)) api.send({ cell });
    });
    return button;
  }

  function render(state) {
    latest = state;
    const view = state && state.view;
    const marks = view && Array.isArray(view.board) ? view.board : new Array(9).fill(null);
    while (buttons.length < marks.length) buttons.push(cellButton(buttons.length));
    buttons.length = marks.length;
    if (board.children.length !== buttons.length) board.replaceChildren(...buttons);

    const playable = playableCells(state);
    marks.forEach((mark, cell) => {
      const button = buttons[cell];
      const text = mark || '';
      if (button.dataset.mark !== text) {
        button.dataset.mark = text;
        button.textContent = text;
      }
      button.setAttribute('aria-label', `cell ${cell}${text ? `: ${text}` : ''}`);
      button.disabled = !playable.has(cell);
    });

    const mine = markOf(view, state && state.you);
    you.dataset.mark = mine || '';
    if (mine) {
      you.replaceChildren('You are ', Object.assign(document.createElement('b'), { textContent: mine }));
    } else if (view && view.players) {
      const names = (state && state.names) || {};
      you.textContent = Object.entries(view.players)
        .map(([mark, id]) => `${mark}: ${names[id] || id || '?'}`)
        .join(' · ');
    } else {
      you.textContent = '';
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
