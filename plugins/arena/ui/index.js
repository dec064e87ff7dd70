// Arena's board UI, run by the browser client inside the sandboxed board
// frame (host/client/ui/frame.js): the asteroid field drawn on a <canvas>
// at the display's frame rate, interpolated between the 20 Hz states, and
// steering by keyboard (arrows / WASD) or pointer (touch, mouse).
//
// Self-contained on purpose: the frame's CSP allows no imports from
// elsewhere, so the styles are injected as a <style> element below.
//
// View (the same for everyone, every tick): `{"tick", "ticks_left", "size",
// "ships": [{"player", "x", "y", "vx", "vy", "lives", "shielded", "out"}],
// "asteroids": [[x, y, radius], ...]}` in field units (0..size, y grows
// downward; an out ship has x/y null). Action: `{"thrust": {"x", "y"}}`
// (the server clamps it to length 1; {x: 0, y: 0} coasts). Events:
// `hit {player, lives}`, `out {player}`.
//
// DOM contract (what tests use):
//   canvas#arena                 the field; focusable (tabindex 0), focused
//                                on mount; data-ships-drawn = the number of
//                                ships drawn on the last animation frame
//   #arena-hud                   one [data-player="<id>"] per ship, in seat
//                                order, with data-lives="<n>", data-seat,
//                                data-out="true|false", data-you="true" on
//                                your own; inside: .swatch (the ship colour),
//                                .name (display name), .lives ("♥♥♥")
//   #arena-timer                 seconds left, one decimal ("29.5"), with
//                                data-ticks-left
//   #arena-overlay               shown (not [hidden]) while waiting for
//                                players and once the game is over;
//                                data-state = the status's state; on finish
//                                its text names the winners
//
// Input: keydown/keyup on the frame's window (arrows, WASD) give a thrust
// vector (right+up = {x: 1, y: -1}); pointerdown/move on the canvas
// thrusts from your ship toward the pointer, pointerup coasts. An action
// is sent only when the vector changes, and never for a spectator, in a
// replay, when your ship is out, or when the game is not being played.

const TICK_HZ = 20;
/** The ships' radius in field units (SHIP_RADIUS in plugins/arena/src/lib.rs). */
const SHIP_RADIUS = 15;
/** Ships are never drawn smaller than this (CSS pixels). */
const MIN_SHIP_PX = 10;
/** Ship colours by seat (index in view.ships). */
const PALETTE = ['#e63946', '#1d8fe1', '#2a9d3f', '#f4a100'];
const FLASH_MS = 600;
const BOOM_MS = 700;
/** Pointer steering is quantised to this many directions (fewer sends). */
const DIRECTIONS = 32;

const CSS = `
.arena { max-width: 640px; }
.arena-bar { display: flex; align-items: flex-start; justify-content: space-between; gap: 8px; margin-bottom: 4px; }
#arena-hud { display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 0; padding: 0; list-style: none; font-size: 14px; }
#arena-hud li { display: inline-flex; align-items: center; gap: 5px; white-space: nowrap; }
#arena-hud li[data-out="true"] { opacity: 0.45; text-decoration: line-through; }
#arena-hud li[data-you="true"] .name { font-weight: 700; }
#arena-hud .swatch { width: 12px; height: 12px; border-radius: 50%; display: inline-block; box-shadow: 0 0 0 1px rgba(0,0,0,.25); }
#arena-hud .lives { color: #d92d20; letter-spacing: 1px; }
.arena-time { font-variant-numeric: tabular-nums; font-size: 14px; color: #475467; white-space: nowrap; }
#arena-timer { font-weight: 700; color: #1d2330; }
.arena-stage { position: relative; width: 100%; max-width: 640px; }
#arena { display: block; width: 100%; height: auto; aspect-ratio: 1 / 1; background: #0b1020; border-radius: 6px; touch-action: none; outline: none; }
#arena:focus-visible { box-shadow: 0 0 0 3px #2f5bea; }
#arena-overlay { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; text-align: center;
  padding: 12px; pointer-events: none; color: #fff; font: 700 24px/1.3 system-ui, sans-serif; text-shadow: 0 2px 6px #000;
  background: rgba(11, 16, 32, 0.55); border-radius: 6px; }
#arena-overlay[hidden] { display: none; }
#arena-overlay small { display: block; font-size: 15px; font-weight: 400; }
`;

/** Direction keys (KeyboardEvent.code, with KeyboardEvent.key as fallback). */
const KEY_DIRECTIONS = {
  ArrowUp: 'up', KeyW: 'up', w: 'up', W: 'up',
  ArrowDown: 'down', KeyS: 'down', s: 'down', S: 'down',
  ArrowLeft: 'left', KeyA: 'left', a: 'left', A: 'left',
  ArrowRight: 'right', KeyD: 'right', d: 'right', D: 'right',
};

const colourOf = (seat) => PALETTE[seat % PALETTE.length];
const round3 = (v) => Math.round(v * 1000) / 1000 + 0; // + 0 turns -0 into 0
const sameVector = (a, b) => a.x === b.x && a.y === b.y;

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

export function mount(element, api) {
  const style = el('style', { textContent: CSS });
  document.head.append(style);

  // --- DOM -----------------------------------------------------------------
  const hud = el('ul', { id: 'arena-hud' });
  const timer = el('span', { id: 'arena-timer', textContent: '–' });
  const time = el('div', { className: 'arena-time' }, 'Time ', timer, ' s');
  const canvas = el('canvas', { id: 'arena', tabIndex: 0, width: 640, height: 640 });
  canvas.setAttribute('aria-label', 'arena: steer with the arrow keys or WASD, or hold the pointer where to go');
  canvas.dataset.shipsDrawn = '0';
  const overlay = el('div', { id: 'arena-overlay', hidden: true });
  const stage = el('div', { className: 'arena-stage' }, canvas, overlay);
  const wrap = el('div', { className: 'arena' }, el('div', { className: 'arena-bar' }, hud, time), stage);
  element.replaceChildren(wrap);
  const ctx = canvas.getContext('2d');

  // --- What the states say -------------------------------------------------
  let latest = null; // the last state
  let lastSeq = null;
  let hudKey = '';
  const flashes = new Map(); // player -> flash end (performance.now() time)
  let booms = []; // {x, y, colour, start}: ships that just went out, in field units
  let myShipAt = null; // your ship's position on the last frame, CSS px

  function myShip(state) {
    const view = state && state.view;
    if (!view || !Array.isArray(view.ships) || !state.you) return null;
    return view.ships.find((ship) => ship.player === state.you) || null;
  }

  /** Whether this page may steer now. */
  function canAct() {
    const state = latest;
    if (!state || api.you == null || state.replay) return false;
    if (!state.status || state.status.state !== 'playing') return false;
    const ship = myShip(state);
    return Boolean(ship && !ship.out && ship.x != null);
  }

  function onState(state, previous) {
    latest = state;
    const view = state && state.view;
    if (state && state.seq !== lastSeq) {
      lastSeq = state.seq;
      const now = performance.now();
      for (const event of state.events || []) {
        const player = event && event.data && event.data.player;
        if (event.kind === 'hit' && player != null) flashes.set(player, now + FLASH_MS);
        if (event.kind === 'out' && player != null) {
          // Out ships have no position: explode where it was last seen.
          const ships = (previous && previous.view && previous.view.ships) || [];
          const seat = ships.findIndex((ship) => ship.player === player);
          const seen = ships[seat];
          if (seen && seen.x != null) booms.push({ x: seen.x, y: seen.y, colour: colourOf(seat), start: now });
        }
      }
    }
    renderHud(state);
    renderOverlay(state);
    steer(); // keeps pointer steering aimed as the ship moves; sends on change only
  }

  function renderHud(state) {
    const view = state && state.view;
    const ships = (view && Array.isArray(view.ships) && view.ships) || [];
    const names = (state && state.names) || {};
    const key = ships.map((ship) => ship.player).join('\n');
    if (key !== hudKey) {
      hudKey = key;
      hud.replaceChildren(
        ...ships.map((ship, seat) => {
          const swatch = el('span', { className: 'swatch' });
          swatch.style.background = colourOf(seat);
          const item = el('li', {}, swatch, el('span', { className: 'name' }), el('span', { className: 'lives' }));
          item.dataset.player = ship.player;
          item.dataset.seat = String(seat);
          return item;
        }),
      );
    }
    ships.forEach((ship, seat) => {
      const item = hud.children[seat];
      const you = state.you != null && ship.player === state.you;
      const lives = Math.max(0, Number(ship.lives) || 0);
      item.dataset.lives = String(lives);
      item.dataset.out = String(Boolean(ship.out));
      if (you) item.dataset.you = 'true';
      else delete item.dataset.you;
      item.querySelector('.name').textContent = `${names[ship.player] || ship.player}${you ? ' (you)' : ''}`;
      const hearts = item.querySelector('.lives');
      hearts.textContent = ship.out ? 'out' : '♥'.repeat(lives);
      hearts.setAttribute('aria-label', `${lives} ${lives === 1 ? 'life' : 'lives'}`);
    });
    if (view && Number.isFinite(view.ticks_left)) {
      timer.textContent = (view.ticks_left / TICK_HZ).toFixed(1);
      timer.dataset.ticksLeft = String(view.ticks_left);
    }
  }

  function renderOverlay(state) {
    const status = (state && state.status) || {};
    const names = (state && state.names) || {};
    const nameOf = (id) => names[id] || id;
    overlay.dataset.state = status.state || '';
    if (status.state === 'finished') {
      const winners = status.winners || [];
      const youWon = state.you != null && winners.includes(state.you);
      const title =
        winners.length === 0 ? 'No winner' : `${winners.length > 1 ? 'Winners' : 'Winner'}: ${winners.map(nameOf).join(', ')}`;
      overlay.replaceChildren(
        el('div', {}, title, el('small', { textContent: youWon ? 'You win!' : status.summary || '' })),
      );
      overlay.hidden = false;
    } else if (status.state === 'aborted') {
      overlay.replaceChildren(el('div', {}, 'Game aborted', el('small', { textContent: status.reason || '' })));
      overlay.hidden = false;
    } else if (status.state === 'waiting_for_players') {
      const seated = (status.seated || []).length;
      overlay.replaceChildren(
        el('div', {}, 'Waiting for players…', el('small', { textContent: status.seats ? `${seated} of ${status.seats}` : '' })),
      );
      overlay.hidden = false;
    } else {
      overlay.hidden = true;
      overlay.replaceChildren();
    }
  }

  // --- Input -----------------------------------------------------------------
  const held = new Set(); // 'up' | 'down' | 'left' | 'right'
  let pointer = null; // {id, x, y} in CSS px of the canvas while pressed
  let sent = { x: 0, y: 0 }; // the server starts every ship coasting

  function keyVector() {
    return {
      x: (held.has('right') ? 1 : 0) - (held.has('left') ? 1 : 0),
      y: (held.has('down') ? 1 : 0) - (held.has('up') ? 1 : 0),
    };
  }

  function pointerVector() {
    if (!myShipAt) return { x: 0, y: 0 };
    const dx = pointer.x - myShipAt.x;
    const dy = pointer.y - myShipAt.y;
    if (Math.hypot(dx, dy) <= myShipAt.r) return { x: 0, y: 0 }; // on the ship: coast
    const step = (2 * Math.PI) / DIRECTIONS;
    const angle = Math.round(Math.atan2(dy, dx) / step) * step;
    return { x: round3(Math.cos(angle)), y: round3(Math.sin(angle)) };
  }

  // At most one thrust per STEER_INTERVAL_MS (the server takes 5 messages a
  // second per connection); a change in between is sent when it ends.
  const STEER_INTERVAL_MS = 220;
  let lastSteerAt = -Infinity;
  let steerTimer = null;

  /** Send the thrust the input asks for, if it changed and this page may act. */
  function steer() {
    const wanted = pointer ? pointerVector() : keyVector();
    if (sameVector(wanted, sent) || !canAct()) return;
    const wait = lastSteerAt + STEER_INTERVAL_MS - performance.now();
    if (wait > 0) {
      if (!steerTimer) {
        steerTimer = setTimeout(() => {
          steerTimer = null;
          steer();
        }, wait);
      }
      return;
    }
    lastSteerAt = performance.now();
    sent = wanted;
    api.send({ thrust: { x: wanted.x, y: wanted.y } });
  }

  function directionOf(event) {
    return KEY_DIRECTIONS[event.code] || KEY_DIRECTIONS[event.key] || null;
  }

  function onKeyDown(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const direction = directionOf(event);
    if (!direction) return;
    event.preventDefault(); // no scrolling the frame with the arrows
    held.add(direction);
    steer();
  }

  function onKeyUp(event) {
    const direction = directionOf(event);
    if (!direction) return;
    event.preventDefault();
    held.delete(direction);
    steer();
  }

  function onBlur() {
    // Keys released while the frame had no focus never send keyup.
    held.clear();
    pointer = null;
    steer();
  }

  function pointerAt(event) {
    const box = canvas.getBoundingClientRect();
    return { id: event.pointerId, x: event.clientX - box.left, y: event.clientY - box.top };
  }

  function onPointerDown(event) {
    if (event.button !== undefined && event.button > 0) return;
    canvas.focus({ preventScroll: true });
    try {
      canvas.setPointerCapture(event.pointerId);
    } catch {
      // synthetic events have no active pointer to capture
    }
    pointer = pointerAt(event);
    event.preventDefault();
    steer();
  }

  function onPointerMove(event) {
    if (!pointer || event.pointerId !== pointer.id) return;
    pointer = pointerAt(event);
    steer();
  }

  function onPointerUp(event) {
    if (!pointer || event.pointerId !== pointer.id) return;
    pointer = null;
    steer();
  }

  window.addEventListener('keydown', onKeyDown);
  window.addEventListener('keyup', onKeyUp);
  window.addEventListener('blur', onBlur);
  canvas.addEventListener('pointerdown', onPointerDown);
  canvas.addEventListener('pointermove', onPointerMove);
  canvas.addEventListener('pointerup', onPointerUp);
  canvas.addEventListener('pointercancel', onPointerUp);
  canvas.addEventListener('lostpointercapture', onPointerUp);
  canvas.addEventListener('contextmenu', (event) => event.preventDefault());

  // --- Drawing ---------------------------------------------------------------
  let frameRequest = 0;
  let side = 0; // canvas side in CSS px
  let ratio = 1; // device pixels per CSS px

  /** Match the canvas's backing store to its CSS size (it fits the frame's width up to 640 px). */
  function fit() {
    const css = canvas.clientWidth || 640;
    const dpr = window.devicePixelRatio || 1;
    const pixels = Math.max(1, Math.round(css * dpr));
    if (canvas.width !== pixels || canvas.height !== pixels) {
      canvas.width = pixels;
      canvas.height = pixels;
    }
    side = css;
    ratio = pixels / css;
  }

  /** Whether `before` → `view` is one step of the same game (then interpolate). */
  function consecutive(before, view) {
    return (
      before && view && Number.isFinite(before.tick) && Number.isFinite(view.tick) &&
      view.tick > before.tick && view.tick - before.tick <= 3
    );
  }

  function drawFrame(now) {
    frameRequest = requestAnimationFrame(drawFrame);
    fit();
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.fillStyle = '#0b1020';
    ctx.fillRect(0, 0, side, side);

    const { previous, current, alpha } = api.interpolation(now);
    const view = current && current.view;
    let drawn = 0;
    myShipAt = null;
    if (view && Number(view.size) > 0) {
      const before = previous && previous.view;
      const smooth = consecutive(before, view);
      const t = smooth ? alpha : 1;
      const scale = side / view.size;
      const lerp = api.lerp;

      // Field border.
      ctx.strokeStyle = 'rgba(255,255,255,0.12)';
      ctx.lineWidth = 1;
      ctx.strokeRect(0.5, 0.5, side - 1, side - 1);

      // Asteroids, matched by index, in one path.
      const rocks = Array.isArray(view.asteroids) ? view.asteroids : [];
      const rocksBefore = smooth && Array.isArray(before.asteroids) ? before.asteroids : [];
      ctx.beginPath();
      for (let i = 0; i < rocks.length; i++) {
        const [x, y, r] = rocks[i];
        const old = rocksBefore[i];
        const px = (old ? lerp(old[0], x, t) : x) * scale;
        const py = (old ? lerp(old[1], y, t) : y) * scale;
        const pr = Math.max(1.5, r * scale);
        ctx.moveTo(px + pr, py);
        ctx.arc(px, py, pr, 0, 2 * Math.PI);
      }
      ctx.fillStyle = '#8d939e';
      ctx.fill();

      // Exploded ships.
      booms = booms.filter((boom) => now - boom.start < BOOM_MS);
      for (const boom of booms) {
        const k = Math.max(0, (now - boom.start) / BOOM_MS);
        ctx.beginPath();
        ctx.arc(boom.x * scale, boom.y * scale, MIN_SHIP_PX + 40 * k, 0, 2 * Math.PI);
        ctx.strokeStyle = boom.colour;
        ctx.globalAlpha = 1 - k;
        ctx.lineWidth = 4;
        ctx.stroke();
        ctx.globalAlpha = 1;
      }

      // Ships, matched by player; colours by seat.
      const ships = Array.isArray(view.ships) ? view.ships : [];
      const shipsBefore = smooth && Array.isArray(before.ships) ? before.ships : [];
      const radius = Math.max(MIN_SHIP_PX, SHIP_RADIUS * scale);
      ships.forEach((ship, seat) => {
        if (ship.out || ship.x == null || ship.y == null) return;
        const old = shipsBefore.find((other) => other.player === ship.player && other.x != null && !other.out);
        const px = (old ? lerp(old.x, ship.x, t) : ship.x) * scale;
        const py = (old ? lerp(old.y, ship.y, t) : ship.y) * scale;
        const colour = colourOf(seat);
        const mine = current.you != null && ship.player === current.you;

        if (ship.shielded) {
          // Halo: a soft disc and a pulsing ring.
          ctx.beginPath();
          ctx.arc(px, py, radius + 9, 0, 2 * Math.PI);
          ctx.fillStyle = 'rgba(120, 220, 255, 0.22)';
          ctx.fill();
          ctx.beginPath();
          ctx.arc(px, py, radius + 7 + 2 * Math.sin(now / 60), 0, 2 * Math.PI);
          ctx.strokeStyle = 'rgba(150, 230, 255, 0.85)';
          ctx.lineWidth = 2;
          ctx.stroke();
        }

        // Heading: a short line along the velocity.
        const speed = Math.hypot(ship.vx || 0, ship.vy || 0);
        if (speed > 1) {
          ctx.beginPath();
          ctx.moveTo(px, py);
          ctx.lineTo(px + (ship.vx / speed) * (radius + 8), py + (ship.vy / speed) * (radius + 8));
          ctx.strokeStyle = colour;
          ctx.lineWidth = 3;
          ctx.stroke();
        }

        const flashing = (flashes.get(ship.player) || 0) > now && Math.floor(now / 80) % 2 === 0;
        ctx.beginPath();
        ctx.arc(px, py, radius, 0, 2 * Math.PI);
        ctx.fillStyle = flashing ? '#ffffff' : colour;
        ctx.fill();
        if (mine) {
          ctx.beginPath();
          ctx.arc(px, py, radius + 2.5, 0, 2 * Math.PI);
          ctx.strokeStyle = '#ffffff';
          ctx.lineWidth = 3;
          ctx.stroke();
          myShipAt = { x: px, y: py, r: radius };
        }
        drawn += 1;
      });
    }
    const count = String(drawn);
    if (canvas.dataset.shipsDrawn !== count) canvas.dataset.shipsDrawn = count;
  }

  // --- Start -----------------------------------------------------------------
  const unsubscribe = api.onState(onState);
  if (api.state) onState(api.state, api.previous);
  else renderOverlay(null);
  frameRequest = requestAnimationFrame(drawFrame);
  canvas.focus({ preventScroll: true });

  return () => {
    unsubscribe();
    cancelAnimationFrame(frameRequest);
    clearTimeout(steerTimer);
    window.removeEventListener('keydown', onKeyDown);
    window.removeEventListener('keyup', onKeyUp);
    window.removeEventListener('blur', onBlur);
    style.remove();
    element.replaceChildren();
  };
}
