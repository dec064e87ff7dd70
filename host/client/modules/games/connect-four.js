// Connect-four's board: a grid of discs (R and Y) with the winning line
// marked; a click on a column that is not full sends {"column": c}.

export { markOf as mark } from './marks.js';

export const name = 'connect-four';

/** Whether `view` is one this board draws. */
export function fits(view) {
  return Array.isArray(view.grid);
}

export function draw(board, view, { myTurn, send }) {
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
      button.addEventListener('click', () => send({ column }));
      cells.push(button);
    }),
  );
  board.replaceChildren(...cells);
}
