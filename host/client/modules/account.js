// The player's account: a guest account made from this browser's device id
// (a random secret kept in localStorage, so the same browser is the same
// account), and its session (the access and refresh tokens, in
// sessionStorage), refreshed before it expires. The header shows who is
// signed in; an empty name field starts with the account's display name.
// Rooms, joins, tickets and the room WebSocket all take this session: the
// seated player is the account, shown by its display name (the name field
// renames the account before it plays).

import { api, ApiError } from './api.js';
import { $, load, state, store } from './state.js';

const DEVICE_KEY = 'arcade.device';
const SESSION_KEY = 'arcade.session';
/** Refresh this long before the access token expires. */
const MARGIN_SECONDS = 60;

function deviceId() {
  let id = null;
  try {
    id = localStorage.getItem(DEVICE_KEY);
  } catch {
    // storage disabled: a new guest account per page load.
  }
  if (!id) {
    const bytes = new Uint8Array(24);
    crypto.getRandomValues(bytes);
    id = `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
    try {
      localStorage.setItem(DEVICE_KEY, id);
    } catch {
      // as above
    }
  }
  return id;
}

function fresh(session) {
  return session && session.access_token && session.expires_at - MARGIN_SECONDS > Date.now() / 1000;
}

function keep(answer) {
  const session = {
    account: answer.account,
    access_token: answer.access_token,
    refresh_token: answer.refresh_token,
    expires_at: answer.expires_at,
  };
  store(SESSION_KEY, session);
  state.session = session;
  state.account = session.account;
  const shown = $('account');
  shown.textContent = `Signed in as ${session.account.display_name}`;
  shown.dataset.account = session.account.id;
  if (!$('name').value) $('name').value = session.account.display_name;
  return session;
}

/**
 * The session: the stored one while fresh, else refreshed, else a guest
 * sign-in with this browser's device id. Null (and said so in the header)
 * when the server cannot be reached.
 */
export async function signIn() {
  const stored = load(SESSION_KEY);
  if (fresh(stored)) return keep(stored);
  try {
    if (stored && stored.refresh_token) {
      try {
        const { data } = await api('/v1/auth/refresh', { method: 'POST', body: { refresh_token: stored.refresh_token } });
        return keep(data);
      } catch {
        // used up, expired or revoked: sign in again below.
      }
    }
    const { data } = await api('/v1/auth/guest', { method: 'POST', body: { device_id: deviceId() } });
    return keep(data);
  } catch (e) {
    state.account = null;
    $('account').textContent = `Not signed in (${e.message})`;
    return null;
  }
}

/** The current access token (null before signing in). */
export function accessToken() {
  return state.session ? state.session.access_token : null;
}

/**
 * A session whose account is displayed as `name`: signs in, and renames the
 * account first when the name field says otherwise (a new token carries
 * the new name). Throws ApiError when the server refuses.
 */
export async function sessionNamed(name) {
  const session = await signIn();
  if (!session) throw new ApiError(0, 'not_signed_in', 'cannot sign in to the server');
  if (!name || session.account.display_name === name) return session;
  await api('/v1/account', { method: 'PATCH', body: { display_name: name }, token: session.access_token });
  const { data } = await api('/v1/auth/refresh', { method: 'POST', body: { refresh_token: session.refresh_token } });
  return keep(data);
}
