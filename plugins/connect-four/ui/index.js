// Connect-four's board UI, run by the browser client inside the sandboxed
// board frame (host/client/ui/frame.js): a 7 x 6 grid of discs, red (R)
// and yellow (Y), with the winning line marked.
//
// Self-contained on purpose: the frame's CSP allows no imports from
// elsewhere, so the styles are injected as a <style> element below.
//
// View (the same for everyone): `{"grid": [6 rows of 7 x "R" | "Y" | null],
// "players": {"R": id, "Y": id}, "next", "winner", "line": [[row, col], ...]
// | null}`; grid[0] is the TOP row. Action: `{"column": c}`, c in 0..=6.
//
// DOM contract (what tests use):
//   div.c4                                   the board
//   button.cell[data-row="r"][data-col="c"]  one per grid cell (42);
//       data-disc="R" | "Y" | ""; classes disc-R / disc-Y, and win on the
//       discs of the winning line; disabled unless {column: c} is in
//       state.legal_actions; a click on any cell of column c sends
//       {column: c}
//   #c4-you[data-disc]                       "You are Red" / "You are Yellow";
//       for a spectator or a replay "Red: ann · Yellow: bob", data-disc=""

const CSS = `
.c4-wrap { display: inline-block; }
.c4 {
  display: grid;
  grid-template-columns: repeat(7, 3rem);
  grid-auto-rows: 3rem;
  gap: 0.3rem;
  padding: 0.5rem;
  margin: 0.5rem 0;
  width: max-content;
  background: #1f3a93;
  border-radius: 0.5rem;
}
.c4 .cell {
  border-radius: 50%;
  border: none;
  background: #fff;
  opacity: 1;
  padding: 0;
  cursor: pointer;
}
.c4 .cell:disabled { cursor: default; }
.c4 .cell:not(:disabled):hover,
.c4 .cell:not(:disabled):focus-visible { background: #dbe4ff; outline: none; }
.c4 .cell.disc-R, .c4 .cell.disc-R:hover { background: #e03131; }
.c4 .cell.disc-Y, .c4 .cell.disc-Y:hover { background: #fcc419; }
.c4 .cell.win { box-shadow: 0 0 0 4px #12b886 inset; }
.c4-you { margin: 0; font-size: 0.85rem; color: #667085; }
.c4-you[data-disc="R"] b { color: #e03131; }
.c4-you[data-disc="Y"] b { color: #b08800; }
`;

const ROWS = 6;
const COLUMNS = 7;
const COLOUR = { R: 'Red', Y: 'Yellow' };

/** The disc `me` plays in `view` ("R" or "Y"), or null. */
function discOf(view, me) {
  if (!me || !view || !view.players || typeof view.players !== 'object') return null;
  return Object.keys(view.players).find((disc) => view.players[disc] === me) || null;
}

/** The columns `state` lets this viewer play now. */
function playableColumns(state) {
  const columns = new Set();
  if (!state || state.replay || !state.you) return columns;
  for (const action of state.legal_actions || []) {
    if (action && Number.isInteger(action.column)) columns.add(action.column);
  }
  return columns;
}

export function mount(element, api) {
  const style = document.createElement('style');
  style.textContent = CSS;
  document.head.append(style);

  const wrap = document.createElement('div');
  wrap.className = 'c4-wrap';
  const board = document.createElement('div');
  board.className = 'c4';
  board.setAttribute('aria-label', 'connect-four board');
  const you = document.createElement('p');
  you.id = 'c4-you';
  you.className = 'c4-you';
  wrap.append(board, you);
  element.replaceChildren(wrap);

  let latest = null;
  let buttons = []; // buttons[row][column]

  function cellButton(row, column) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'cell';
    button.dataset.row = String(row);
    button.dataset.col = String(column);
    button.dataset.disc = '';
    button.disabled = true;
    button.addEventListener('click', () => {
      // Send only what the last state allows (a stale click is dropped).
      if (playableColumns(latest).has(column)) api.send({ column });
    });
    return button;
  }

  /** (Re)build the buttons when the grid's shape changes. */
  function shape(rows, columns) {
    if (buttons.length === rows && (rows === 0 || buttons[0].length === columns)) return;
    buttons = Array.from({ length: rows }, (_, r) => Array.from({ length: columns }, (_, c) => cellButton(r, c)));
    board.style.gridTemplateColumns = `repeat(${columns}, 3rem)`;
    board.replaceChildren(...buttons.flat());
  }

  function render(state) {
    latest = state;
    const view = state && state.view;
    const grid =
      view && Array.isArray(view.grid) && view.grid.length
        ? view.grid
        : Array.from({ length: ROWS }, () => new Array(COLUMNS).fill(null));
    shape(grid.length, grid[0].length);

    const line = new Set(((view && view.line) || []).map(([r, c]) => `${r},${c}`));
    const playable = playableColumns(state);
    grid.forEach((row, r) =>
      row.forEach((disc, column) => {
        const button = buttons[r][column];
        const text = disc || '';
        button.dataset.disc = text;
        button.className = `cell${text ? ` disc-${text}` : ''}${line.has(`${r},${column}`) ? ' win' : ''}`;
        button.setAttribute('aria-label', `column ${column}, row ${r}${text ? `: ${text}` : ''}`);
        button.disabled = !playable.has(column);
      }),
    );

    const mine = discOf(view, state && state.you);
    you.dataset.disc = mine || '';
    if (mine) {
      you.replaceChildren('You are ', Object.assign(document.createElement('b'), { textContent: COLOUR[mine] || mine }));
    } else if (view && view.players) {
      const names = (state && state.names) || {};
      you.textContent = Object.entries(view.players)
        .map(([disc, id]) => `${COLOUR[disc] || disc}: ${names[id] || id || '?'}`)
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
