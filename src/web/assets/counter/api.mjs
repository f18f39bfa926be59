// Every HTTP call the counter page makes, and the parsing of the answers, in one place.
// A 401 from any call but signing in means the session is gone: it throws SessionExpired and
// the page goes back to the sign-in form.

export class SessionExpired extends Error {
  constructor() {
    super('session expired');
    this.name = 'SessionExpired';
  }
}

/** An answer other than success; `field` is the request field a 422 names. */
export class ApiError extends Error {
  constructor(status, message, field = null) {
    super(message || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.serverMessage = message || '';
    this.field = field;
  }
}

/** The counter API bound to a fetch function (the browser's, or a fake in tests). */
export function createCounterApi(fetchImpl = globalThis.fetch.bind(globalThis), base = '/api/v1') {
  async function request(method, path, body) {
    const init = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetchImpl(`${base}${path}`, init);
    return { status: response.status, ok: response.ok, data: await readJson(response) };
  }

  async function expectOk(method, path, body) {
    const answer = await request(method, path, body);
    if (answer.status === 401) throw new SessionExpired();
    if (!answer.ok) throw errorOf(answer);
    return answer.data;
  }

  return {
    /** The signed-in user ({login, role}), or null without a session. */
    async currentSession() {
      const answer = await request('GET', '/session');
      if (answer.status === 401) return null;
      if (!answer.ok) throw errorOf(answer);
      return parseSession(answer.data);
    },

    /** Signs in; a wrong password is ApiError 401 here (not SessionExpired), too many 429. */
    async signIn(login, password) {
      const answer = await request('POST', '/session', { login, password });
      if (!answer.ok) throw errorOf(answer);
      return parseSession(answer.data) ?? { login, role: null };
    },

    /** Ends the session; an already expired one counts as signed out. */
    async signOut() {
      const answer = await request('DELETE', '/session');
      if (!answer.ok && answer.status !== 401) throw errorOf(answer);
    },

    /** The counter's hours on `date` (YYYY-MM-DD), today when absent; null without a calendar. */
    async hours(date) {
      const query = date ? `?date=${encodeURIComponent(date)}` : '';
      const answer = await request('GET', `/counter/hours${query}`);
      if (answer.status === 401) throw new SessionExpired();
      if (answer.status === 404) return null;
      if (!answer.ok) throw errorOf(answer);
      return parseHours(answer.data);
    },

    /** The cases of one counter day (YYYY-MM-DD), newest first, with the day's counts. */
    async casesOn(date) {
      const params = new URLSearchParams({ date, per_page: '500' });
      return parseCasePage(await expectOk('GET', `/counter/cases?${params}`));
    },

    async record(payload) {
      return parseCase(await expectOk('POST', '/counter/cases', payload));
    },

    async correct(id, payload) {
      return parseCase(await expectOk('PUT', `/counter/cases/${encodeURIComponent(id)}`, payload));
    },
  };
}

function errorOf(answer) {
  const data = answer.data && typeof answer.data === 'object' ? answer.data : {};
  return new ApiError(
    answer.status,
    typeof data.error === 'string' ? data.error : '',
    typeof data.field === 'string' ? data.field : null,
  );
}

async function readJson(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export function parseSession(data) {
  if (!data || typeof data !== 'object' || typeof data.login !== 'string' || !data.login) {
    return null;
  }
  return { login: data.login, role: typeof data.role === 'string' ? data.role : null };
}

/** {date, timeZone, open, from, to, closedReason, label, openNow} from the hours answer. */
export function parseHours(data) {
  if (!data || typeof data !== 'object' || typeof data.date !== 'string') return null;
  const text = (value) => (typeof value === 'string' && value !== '' ? value : null);
  return {
    date: data.date,
    timeZone: text(data.time_zone),
    open: data.open === true,
    from: text(data.from),
    to: text(data.to),
    closedReason: text(data.closed_reason),
    label: text(data.label),
    openNow: typeof data.open_now === 'boolean' ? data.open_now : null,
  };
}

/** One case as the page uses it, or null when the answer is not a case. */
export function parseCase(data) {
  if (!data || typeof data !== 'object' || typeof data.id !== 'string') return null;
  const text = (value) => (typeof value === 'string' ? value : null);
  return {
    id: data.id,
    at: text(data.at),
    kind: text(data.kind),
    outcome: text(data.outcome),
    seat: text(data.seat) ?? '',
    feeConfirmed: typeof data.fee_payment_confirmed === 'boolean' ? data.fee_payment_confirmed : null,
    staff: text(data.staff),
    note: text(data.note),
    outsideHours: data.outside_hours === true,
  };
}

/** {total, byKind: [{kind, count}], cases} from a listing. */
export function parseCasePage(data) {
  const cases = Array.isArray(data?.cases) ? data.cases.map(parseCase).filter(Boolean) : [];
  const byKind = Array.isArray(data?.by_kind)
    ? data.by_kind
      .filter((c) => c && typeof c.kind === 'string' && Number.isFinite(c.count))
      .map((c) => ({ kind: c.kind, count: c.count }))
    : [];
  const total = Number.isFinite(data?.total) ? data.total : cases.length;
  return { total, byKind, cases };
}
