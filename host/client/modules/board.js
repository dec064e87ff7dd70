// The board frame's host side: a game's own UI module (published with its
// rules, docs/game-ui.md) runs in a sandboxed iframe (`sandbox=
// "allow-scripts"`, no same origin: it cannot read this page, its storage,
// cookies or tokens, nor open connections: the frame's CSP says
// `connect-src 'none'`). This page posts it the viewer's state and takes
// back only the documented messages from that frame's window:
// `arcade:ready`, `arcade:action` (rate-limited: a flood is dropped and
// reported, never forwarded), `arcade:error` (shown) and `arcade:size`.

import { api } from './api.js';

/**
 * Actions a board may send: a burst, then a steady rate; the server's own
 * per-connection default (`rate_limits.ws_messages_per_second`, 5) is
 * stricter, so a flood is dropped here before a socket is closed for it.
 */
const ACTION_BURST = 8;
const ACTIONS_PER_SECOND = 5;
/** Largest action a board may send (JSON text), as the server's own cap. */
const MAX_ACTION_CHARS = 4096;
const MIN_HEIGHT = 120;
const MAX_HEIGHT = 1600;

/** The URL of the board frame that runs `moduleUrl` (a path on this server). */
export function frameUrl(moduleUrl) {
  return `/ui/frame.html?module=${encodeURIComponent(moduleUrl)}`;
}

/**
 * Put the UI module at `moduleUrl` in a sandboxed frame inside `container`.
 * `onAction(action)` gets the actions it sends, `onError(text)` its errors
 * and floods. Returns `{ update(state), destroy() }`.
 */
export function mountBoard(container, moduleUrl, { onAction, onError }) {
  const frame = document.createElement('iframe');
  frame.setAttribute('sandbox', 'allow-scripts');
  frame.setAttribute('referrerpolicy', 'no-referrer');
  frame.title = 'game board';
  frame.className = 'board-frame';
  frame.src = frameUrl(moduleUrl);
  let ready = false;
  let latest = null;
  let tokens = ACTION_BURST;
  let refilled = performance.now();
  let lastFloodReport = 0;

  const post = (state) => frame.contentWindow && frame.contentWindow.postMessage({ type: 'arcade:state', state }, '*');

  function takeToken() {
    const now = performance.now();
    tokens = Math.min(ACTION_BURST, tokens + ((now - refilled) / 1000) * ACTIONS_PER_SECOND);
    refilled = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  }

  function refuse(text) {
    const now = performance.now();
    if (now - lastFloodReport < 1000) return;
    lastFloodReport = now;
    onError(text);
  }

  function onMessage(event) {
    if (event.source !== frame.contentWindow) return;
    const message = event.data;
    if (!message || typeof message !== 'object' || typeof message.type !== 'string') return;
    switch (message.type) {
      case 'arcade:ready':
        ready = true;
        if (latest) post(latest);
        break;
      case 'arcade:action': {
        if (!takeToken()) {
          refuse("The game's board is sending too many actions; the extra ones were dropped.");
          return;
        }
        let text;
        try {
          text = JSON.stringify(message.action);
        } catch {
          text = undefined;
        }
        if (text === undefined || text.length > MAX_ACTION_CHARS) {
          refuse("The game's board sent an action that is not small JSON; it was dropped.");
          return;
        }
        onAction(JSON.parse(text));
        break;
      }
      case 'arcade:error':
        onError(`The game's board reported an error: ${String(message.message).slice(0, 300)}`);
        break;
      case 'arcade:size': {
        const height = Number(message.height);
        if (Number.isFinite(height)) {
          frame.style.height = `${Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, Math.ceil(height)))}px`;
        }
        break;
      }
      default:
        break;
    }
  }

  window.addEventListener('message', onMessage);
  container.replaceChildren(frame);
  return {
    frame,
    update(state) {
      latest = state;
      if (ready) post(state);
    },
    destroy() {
      window.removeEventListener('message', onMessage);
      frame.remove();
    },
  };
}

const uiUrls = new Map();

/** The URL of `game@version`'s UI module, or null (then the JSON view is shown). */
export async function uiUrl(game, version) {
  const key = `${game}@${version}`;
  if (!uiUrls.has(key)) {
    const { data } = await api(`/v1/plugins/${encodeURIComponent(game)}`);
    const found = (data || []).find((p) => p.version === version);
    uiUrls.set(key, found && found.ui ? found.ui.url : null);
  }
  return uiUrls.get(key);
}
