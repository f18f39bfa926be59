// Every HTTP call the console makes, and the parsing of the answers, in one place: the
// shapes of /api/v1 are read tolerantly here so the rest of the console sees one form.
// A 401 from any call means the session is gone: it throws SessionExpired, and the console
// goes back to the sign-in form.

export class SessionExpired extends Error {
  constructor() {
    super('session expired');
    this.name = 'SessionExpired';
  }
}

/**
 * An answer other than success; `serverMessage` is the server's `error` text and `field` the
 * request field it names (a 422's `field`), when it gave them.
 */
export class ApiError extends Error {
  constructor(status, message, field = null) {
    super(message || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.serverMessage = message || '';
    this.field = field;
  }
}

/** The API bound to a fetch function (the browser's, or a fake in tests). */
export function createApi(fetchImpl = globalThis.fetch.bind(globalThis), base = '/api/v1') {
  async function request(method, path, body) {
    const init = {
      method,
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
    };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetchImpl(`${base}${path}`, init);
    const data = await readJson(response);
    return { status: response.status, ok: response.ok, data };
  }

  async function expectOk(method, path, body) {
    const answer = await request(method, path, body);
    if (answer.status === 401) throw new SessionExpired();
    if (!answer.ok) {
      throw new ApiError(answer.status, errorMessageOf(answer.data), errorFieldOf(answer.data));
    }
    return answer.data;
  }

  return {
    /** The signed-in user ({login, role}), or null without a session. */
    async currentSession() {
      const answer = await request('GET', '/session');
      if (answer.status === 401) return null;
      if (!answer.ok) throw new ApiError(answer.status, errorMessageOf(answer.data));
      return parseSession(answer.data);
    },

    /** Signs in; a wrong password is ApiError 401 here (not SessionExpired), too many 429. */
    async signIn(login, password) {
      const answer = await request('POST', '/session', { login, password });
      if (!answer.ok) throw new ApiError(answer.status, errorMessageOf(answer.data));
      return parseSession(answer.data) ?? { login, role: null };
    },

    /** Ends the session; an already expired one counts as signed out. */
    async signOut() {
      const answer = await request('DELETE', '/session');
      if (!answer.ok && answer.status !== 401) {
        throw new ApiError(answer.status, errorMessageOf(answer.data));
      }
    },

    async categories() {
      return parseCategories(await expectOk('GET', '/categories'));
    },

    /** FAQ entries matching `query` (all, most used first, when it is empty). */
    async searchFaq(query, limit = 10, signal) {
      const params = new URLSearchParams({ limit: String(limit) });
      if (query.trim()) params.set('q', query.trim());
      const answer = await fetchJson(`/faq?${params}`, signal);
      return parseFaqEntries(answer);
    },

    async fileClassification(callId, payload) {
      return expectOk('POST', `/calls/${encodeURIComponent(callId)}/classification`, payload);
    },

    /** Today's calls of the signed-in operator, newest first. */
    async myCalls() {
      return parseCallSummaries(await expectOk('GET', '/agents/me/calls'));
    },

    /** The nodes sharing the database (`parseCluster`), for the socket's failover. */
    async cluster() {
      return parseCluster(await expectOk('GET', '/cluster'));
    },
  };

  async function fetchJson(path, signal) {
    const response = await fetchImpl(`${base}${path}`, {
      method: 'GET',
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
      signal,
    });
    const data = await readJson(response);
    if (response.status === 401) throw new SessionExpired();
    if (!response.ok) throw new ApiError(response.status, errorMessageOf(data));
    return data;
  }
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

/** The request field an error body names, if any. */
export function errorFieldOf(data) {
  return data && typeof data === 'object' && typeof data.field === 'string' ? data.field : null;
}

/** The `error` (or `message`) text of an error body. */
export function errorMessageOf(data) {
  if (!data || typeof data !== 'object') return '';
  for (const key of ['error', 'message', 'detail']) {
    if (typeof data[key] === 'string') return data[key];
  }
  return '';
}

export function parseSession(data) {
  if (!data || typeof data !== 'object') return null;
  const login = firstString(data, ['login', 'user', 'username']);
  if (!login) return null;
  return { login, role: firstString(data, ['role']) };
}

/** [{code, name}] from a list or from {categories: […]}. */
export function parseCategories(data) {
  return listOf(data, ['categories', 'items'])
    .map((item) => {
      if (typeof item === 'string') return { code: item, name: '' };
      const code = firstString(item, ['code', 'id', 'key']);
      return code ? { code, name: firstString(item, ['name', 'label', 'title']) ?? '' } : null;
    })
    .filter(Boolean);
}

/** [{id, question, answer, category, uses}] from the FAQ search answer. */
export function parseFaqEntries(data) {
  return listOf(data, ['entries', 'items', 'results', 'faq'])
    .map((item) => {
      if (!item || typeof item !== 'object') return null;
      const id = item.id ?? item.faq_id;
      if (id === undefined || id === null) return null;
      return {
        id,
        question: firstString(item, ['question', 'title']) ?? '',
        answer: firstString(item, ['answer', 'body']) ?? '',
        category: firstString(item, ['category', 'category_code']),
        uses: firstNumber(item, ['uses', 'use_count', 'used']) ?? 0,
      };
    })
    .filter(Boolean);
}

/**
 * [{id, arrivedAt (ms or null), caller, disposition, talkMs, classification}] from the
 * operator's call list; classification is null or {category, outcome}.
 */
export function parseCallSummaries(data) {
  return listOf(data, ['calls', 'items', 'records'])
    .map((item) => {
      if (!item || typeof item !== 'object') return null;
      const id = firstString(item, ['id', 'call_id']);
      if (!id) return null;
      const arrived = firstString(item, ['arrived_at', 'arrived', 'started_at', 'offered_at']);
      const arrivedMs = arrived ? Date.parse(arrived) : NaN;
      let talkMs = firstNumber(item, ['talk_ms']);
      if (talkMs === null) {
        const talkS = firstNumber(item, ['talk_s', 'talk_seconds', 'talk_secs']);
        talkMs = talkS === null ? null : talkS * 1000;
      }
      return {
        id,
        arrivedAt: Number.isFinite(arrivedMs) ? arrivedMs : null,
        caller: firstString(item, ['caller', 'from', 'caller_number']),
        disposition: firstString(item, ['disposition', 'result']),
        talkMs,
        classification: parseClassification(item.classification),
      };
    })
    .filter(Boolean);
}

/**
 * {node, nodes: [{nodeId, httpUrl, alive}]} from GET /api/v1/cluster; null when the answer
 * is not one.
 */
export function parseCluster(data) {
  if (!data || typeof data !== 'object' || typeof data.node !== 'string') return null;
  const nodes = listOf(data, ['nodes'])
    .map((item) => {
      const nodeId = firstString(item, ['node_id']);
      if (!nodeId) return null;
      return {
        nodeId,
        httpUrl: firstString(item, ['http_url']),
        alive: item.alive === true,
      };
    })
    .filter(Boolean);
  return { node: data.node, nodes };
}

function parseClassification(value) {
  if (!value || typeof value !== 'object') return null;
  return {
    category: firstString(value, ['category', 'category_code']),
    outcome: firstString(value, ['outcome']),
  };
}

function listOf(data, keys) {
  if (Array.isArray(data)) return data;
  if (data && typeof data === 'object') {
    for (const key of keys) {
      if (Array.isArray(data[key])) return data[key];
    }
  }
  return [];
}

function firstString(object, keys) {
  if (!object || typeof object !== 'object') return null;
  for (const key of keys) {
    const value = object[key];
    if (typeof value === 'string' && value !== '') return value;
    if (typeof value === 'number') return String(value);
  }
  return null;
}

function firstNumber(object, keys) {
  for (const key of keys) {
    const value = object[key];
    if (typeof value === 'number' && Number.isFinite(value)) return value;
  }
  return null;
}
