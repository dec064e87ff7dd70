// The status line and the connection badge.

import { $, state } from './state.js';
import { ApiError, retrySeconds } from './api.js';

export function setStatus(text, kind = 'info') {
  const line = $('status');
  line.textContent = text;
  line.dataset.kind = kind;
}

export function showError(error) {
  if (error instanceof ApiError && error.status === 429) {
    setStatus(`Slow down: too many requests. Try again in ${retrySeconds(error)} s.`, 'warn');
  } else if (error instanceof ApiError) setStatus(`Error ${error.code}: ${error.message}`, 'error');
  else setStatus(`Error: ${error && error.message ? error.message : error}`, 'error');
}

const CONN_TEXT = {
  idle: 'not connected',
  connecting: 'connecting…',
  connected: 'connected',
  reconnecting: 'reconnecting…',
  closed: 'disconnected',
};

export function setConn(conn, detail) {
  state.conn = conn;
  const badge = $('conn');
  badge.dataset.state = conn;
  badge.textContent = detail ? `${CONN_TEXT[conn]} ${detail}` : CONN_TEXT[conn];
}
