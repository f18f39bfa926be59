// The board's few HTTP calls: the session (who is signed in, signing in and out) and the
// category names for the alerts. Everything live comes over the two event streams instead.

/** Managers and admins may watch the board; agents are told it is not for them. */
export const BOARD_ROLES = ['manager', 'admin'];

export function mayWatch(role) {
  return BOARD_ROLES.includes(role);
}

/** An answer other than success; `status` is the HTTP status (0: no answer at all). */
export class RequestFailed extends Error {
  constructor(status) {
    super(`HTTP ${status}`);
    this.name = 'RequestFailed';
    this.status = status;
  }
}

/**
 * One same-origin JSON request with the session cookie: {status, ok, data} (data null when
 * the body is empty or not JSON). Throws RequestFailed(0) when there is no answer at all.
 * The manager pages' API modules build on it.
 */
export async function requestJson(fetchImpl, url, method, body) {
  const init = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetchImpl(url, init);
  } catch {
    throw new RequestFailed(0);
  }
  let data = null;
  try {
    const text = await response.text();
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  return { status: response.status, ok: response.ok, data };
}

export function createSession(fetchImpl = globalThis.fetch.bind(globalThis), base = '/api/v1') {
  const call = (method, path, body) => requestJson(fetchImpl, `${base}${path}`, method, body);

  const user = (data) => (data && typeof data.login === 'string'
    ? { login: data.login, role: typeof data.role === 'string' ? data.role : null }
    : null);

  return {
    /** {login, role} of the signed-in user, or null. */
    async current() {
      const answer = await call('GET', '/session');
      if (answer.status === 401) return null;
      if (!answer.ok) throw new RequestFailed(answer.status);
      return user(answer.data);
    },
    async signIn(login, password) {
      const answer = await call('POST', '/session', { login, password });
      if (!answer.ok) throw new RequestFailed(answer.status);
      return user(answer.data) ?? { login, role: null };
    },
    async signOut() {
      await call('DELETE', '/session');
    },
    /** The configured categories, raw (alerts.mjs reads them). */
    async categories() {
      const answer = await call('GET', '/categories');
      if (!answer.ok) throw new RequestFailed(answer.status);
      return answer.data;
    },
  };
}

/** The message key for a failed sign-in. */
export function signInErrorKey(error) {
  if (error instanceof RequestFailed) {
    if (error.status === 401 || error.status === 403) return 'signin.error.bad_credentials';
    if (error.status === 429) return 'signin.error.rate_limited';
  }
  return 'signin.error.network';
}
