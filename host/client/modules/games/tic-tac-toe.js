// Tic-tac-toe's board: nine cells, X and O; a click on an empty cell
// sends {"cell": n} when it is your turn.

export { markOf as mark } from './marks.js';

export const name = 'tic-tac-toe';

/** Whether `view` is one this board draws. */
export function fits(view) {
  return Array.isArray(view.board);
}

export function draw(board, view, { myTurn, send }) {
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
    button.addEventListener('click', () => send({ cell }));
    return button;
  });
  board.replaceChildren(...cells);
}
