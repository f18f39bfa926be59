// The FAQ editor's HTTP calls (signing in and out is session.mjs's): the draft entries, saving
// one, the editions with the one publishing would make, and publishing. Same origin with
// the session cookie. A 401 means the session is gone: it throws SessionExpired and the page
// goes back to the sign-in form.

import { draftQuery, readEditionList, readEntries, readEdition, readEntry } from './faq-model.mjs';
import { requestJson } from './session.mjs';

export class SessionExpired extends Error {
  constructor() {
    super('session expired');
    this.name = 'SessionExpired';
  }
}

/** An answer other than success: `status` (0: no answer at all), the server's words, and
 * the request field a 422 names. */
export class ApiError extends Error {
  constructor(status, message = '', field = null) {
    super(message || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.serverMessage = message;
    this.field = field;
  }
}

export function createFaqApi(fetchImpl = globalThis.fetch.bind(globalThis), base = '/api/v1') {
  async function call(method, path, body) {
    let response;
    try {
      response = await requestJson(fetchImpl, `${base}${path}`, method, body);
    } catch {
      throw new ApiError(0);
    }
    const { data } = response;
    if (response.status === 401) throw new SessionExpired();
    if (!response.ok) {
      const error = data && typeof data === 'object' ? data : {};
      throw new ApiError(
        response.status,
        typeof error.error === 'string' ? error.error : '',
        typeof error.field === 'string' ? error.field : null,
      );
    }
    return data;
  }

  return {
    /** The live entries matching `q`, with the inactive ones after the active ones or not. */
    async draft(q, withInactive) {
      return readEntries(await call('GET', `/faq?${draftQuery(q, withInactive)}`));
    },

    /** Adds an entry; its stored form. */
    async create(payload) {
      return readEntry(await call('POST', '/faq', payload));
    },

    /** Replaces entry `id`; its stored form. */
    async update(id, payload) {
      return readEntry(await call('PUT', `/faq/${encodeURIComponent(id)}`, payload));
    },

    /** {editions (oldest first), next}: see readEditionList. */
    async editions() {
      return readEditionList(await call('GET', '/faq/editions?next=true'));
    },

    /** Publishes the active entries as the next edition; the edition made. */
    async publish(note) {
      return readEdition(await call('POST', '/faq/editions', { note }));
    },
  };
}
