// The runtime of a game's board frame: the page the browser client puts a
// plugin's UI module in. That page is a sandboxed iframe (`sandbox=
// "allow-scripts"`, no same origin: an opaque origin, so no cookies, no
// storage, no access to the host page) served with a CSP that allows no
// network (`connect-src 'none'`) and scripts from this server only.
//
// It imports the module named by `?module=` (a path on this server under
// /v1/plugins/), calls its `mount(element, api)` and relays the documented
// messages with the host page (docs/game-ui.md):
//
//   host → frame  {type: 'arcade:state', state}
//   frame → host  {type: 'arcade:ready'} | {type: 'arcade:action', action}
//                 | {type: 'arcade:error', message} | {type: 'arcade:size', height}
//
// `state` is what this viewer may see and nothing else: the room's last
// `state` message plus `you`, `names`, `game`, `version` and `replay`.

const MODULE_PREFIX = '/v1/plugins/';
const root = document.getElementById('root');
const errorLine = document.getElementById('frame-error');
const listeners = new Set();
let current = null;
let previous = null;
let currentAt = 0;
let interval = 0;

function post(message) {
  // The host page's origin is not known here (and need not be: what is
  // posted is this viewer's own input); the host checks the source window.
  parent.postMessage(message, '*');
}

/** Errors go to the host page at most once a second (a UI throwing in its animation loop would flood it). */
const ERROR_INTERVAL_MS = 1000;
let lastErrorPosted = -Infinity;

function fail(message) {
  const text = String(message).slice(0, 500);
  errorLine.textContent = `The game's board failed: ${text}`;
  errorLine.hidden = false;
  const now = performance.now();
  if (now - lastErrorPosted < ERROR_INTERVAL_MS) return;
  lastErrorPosted = now;
  post({ type: 'arcade:error', message: text });
}

window.addEventListener('error', (event) => fail(event.message || 'error'));
window.addEventListener('unhandledrejection', (event) =>
  fail((event.reason && event.reason.message) || String(event.reason)),
);

/** States are frozen on arrival: a UI may keep and read them, never change them for the next one. */
function deepFreeze(value) {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze(value[key]);
  }
  return value;
}

/** What the UI module gets: the current state, sending, subscribing, and interpolation. */
const api = Object.freeze({
  /** The last state (null before the first; frozen). */
  get state() {
    return current;
  },
  /** The state before it (null before the second; frozen): real-time games interpolate between the two. */
  get previous() {
    return previous;
  },
  /** The player this page acts for, or null (a spectator or a replay). */
  get you() {
    return current ? current.you : null;
  },
  /** Send an action (game-specific JSON) for this page's player (ignored for spectators and replays). */
  send(action) {
    if (!current || !current.you || current.replay) return;
    post({ type: 'arcade:action', action });
  },
  /** Call `callback(state, previous)` on every new state; returns an unsubscribe function. */
  onState(callback) {
    if (typeof callback !== 'function') throw new TypeError('onState needs a function');
    listeners.add(callback);
    return () => listeners.delete(callback);
  },
  /**
   * For `requestAnimationFrame`: the last two states and how far (0..1) the
   * present is between the arrival of the last one and the next expected
   * one (the interval between the last two arrivals). Draw `lerp(previous,
   * current, alpha)` for movement that is smooth at any frame rate.
   */
  interpolation(now = performance.now()) {
    const alpha = interval > 0 ? Math.min(1, Math.max(0, (now - currentAt) / interval)) : 1;
    return { previous: previous || current, current, alpha };
  },
  /** Linear interpolation of two numbers. */
  lerp(a, b, t) {
    return a + (b - a) * t;
  },
  /** Show an error line in the frame and tell the host page. */
  reportError(message) {
    fail(message);
  },
});

/** Arrival gaps are smoothed, so one late or doubled message does not make movement jump. */
const INTERVAL_SMOOTHING = 0.2;

function deliver(state) {
  const now = performance.now();
  deepFreeze(state);
  // A state from before the current one (a replay seeking back, a new
  // room): nothing to interpolate from.
  const continues = current && typeof state.seq === 'number' && state.seq >= (current.seq ?? 0);
  if (continues) {
    const gap = Math.min(1000, now - currentAt);
    interval = interval > 0 ? interval + INTERVAL_SMOOTHING * (gap - interval) : gap;
  } else {
    interval = 0;
  }
  previous = continues ? current : null;
  current = state;
  currentAt = now;
  for (const callback of listeners) {
    try {
      callback(current, previous);
    } catch (e) {
      fail(e && e.message ? e.message : e);
    }
  }
  reportSize();
}

let lastHeight = 0;
function reportSize() {
  // The content's own height (the document's is never less than the frame's, so it would never shrink).
  const height = Math.ceil(root.getBoundingClientRect().height + (errorLine.hidden ? 0 : errorLine.offsetHeight + 8));
  if (height !== lastHeight) {
    lastHeight = height;
    post({ type: 'arcade:size', height });
  }
}

window.addEventListener('message', (event) => {
  if (event.source !== parent) return;
  const message = event.data;
  if (message && message.type === 'arcade:state' && message.state && typeof message.state === 'object') {
    deliver(message.state);
  }
});

async function start() {
  const asked = new URLSearchParams(location.search).get('module') || '';
  // Resolved first, so that no encoding (`%2e%2e`) walks out of /v1/plugins/.
  let module;
  try {
    const url = new URL(asked, location.href);
    const ok = url.origin === new URL(location.href).origin && url.pathname.startsWith(MODULE_PREFIX);
    module = ok && !url.search && !url.hash && !/%2e|%2f|%5c/i.test(url.pathname) ? url.href : null;
  } catch {
    module = null;
  }
  if (!module) {
    fail(`not a UI module of this server: ${asked.slice(0, 200)}`);
    return;
  }
  let ui;
  try {
    ui = await import(module);
  } catch (e) {
    fail(`the UI module did not load: ${e.message}`);
    return;
  }
  if (typeof ui.mount !== 'function') {
    fail('the UI module does not export mount(element, api)');
    return;
  }
  try {
    await ui.mount(root, api);
  } catch (e) {
    fail(`mount threw: ${e && e.message ? e.message : e}`);
    return;
  }
  new ResizeObserver(reportSize).observe(root);
  post({ type: 'arcade:ready' });
}

start();
