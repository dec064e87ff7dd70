// NAME's board in the browser: the client runs this module in a sandboxed
// frame and calls mount(element, api) (docs/game-ui.md in the Arcade
// repository). `api.state` is what this viewer may see: `view` (your game's
// view), `status`, `events`, `legal_actions` (what you may send now),
// `you` (null for spectators and replays) and `names`. `api.send(action)`
// sends an action; `api.onState(callback)` calls back on every change.
// No network, no storage, no imports from elsewhere: draw with the DOM or
// a <canvas>. `arcade plugin publish` uploads this file with the rules.

export function mount(element, api) {
  const style = document.createElement('style');
  style.textContent = `
    .stones { font-size: 2rem; letter-spacing: 0.2rem; margin: 0.5rem 0; }
    .takes button { font-size: 1rem; margin-right: 0.4rem; padding: 0.4rem 0.8rem; }
  `;
  const stones = document.createElement('div');
  stones.className = 'stones';
  const takes = document.createElement('div');
  takes.className = 'takes';
  element.append(style, stones, takes);

  function draw(state) {
    const view = state.view || {};
    stones.textContent = '●'.repeat(view.stones || 0) || 'no stones left';
    stones.dataset.stones = String(view.stones ?? '');
    const buttons = (state.legal_actions || []).map((action) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.dataset.take = String(action.take);
      button.textContent = `Take ${action.take}`;
      button.addEventListener('click', () => api.send(action));
      return button;
    });
    takes.replaceChildren(...buttons);
  }

  if (api.state) draw(api.state);
  api.onState(draw);
}
