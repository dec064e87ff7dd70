// HTTP to the server: JSON in and out, redirects followed, errors as
// ApiError with the server's machine-readable code and Retry-After.

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/** fetch + JSON; follows redirects; throws ApiError with the server's code. */
export async function api(url, { method = 'GET', body, token } = {}) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'follow',
    });
  } catch (e) {
    throw new ApiError(0, 'network_error', `cannot reach the server (${e.message})`);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    const error = data && typeof data === 'object' && data.error ? data.error : null;
    throw new ApiError(
      response.status,
      error ? error.code : `http_${response.status}`,
      error ? error.message : (typeof data === 'string' && data) || response.statusText,
      response.headers.get('retry-after'),
    );
  }
  // The origin that finally answered (after any 307) owns what was asked for.
  const origin = response.url ? new URL(response.url).origin : location.origin;
  return { data, origin, status: response.status };
}

export function trimSlash(url) {
  return String(url).trim().replace(/\/+$/, '');
}

/** ws:// or wss:// URL for `path` on the node at `base` (http:// or https://). */
export function wsUrl(base, path) {
  return trimSlash(base).replace(/^http/i, 'ws') + path;
}

export function retrySeconds(error) {
  const seconds = Number.parseInt(error.retryAfter, 10);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 60) : 1;
}
