// Games whose view maps marks to players (`{"players": {"X": "alice", …}}`).

/** The mark `me` plays in `view`, or null. */
export function markOf(view, me) {
  if (!view.players || typeof view.players !== 'object') return null;
  return Object.keys(view.players).find((mark) => view.players[mark] === me) || null;
}
