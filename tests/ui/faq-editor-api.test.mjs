// The FAQ editor's API client against a fake fetch: the requests it sends and how it reads
// the answers (the draft list, saving, the editions with the next one, 422s, expiry).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ApiError, createFaqApi, SessionExpired } from '../../src/web/assets/manager/faq-api.mjs';

/** A fetch that answers from `routes` ("METHOD /path" → [status, body]) and records calls. */
function fakeFetch(routes) {
  const calls = [];
  const fetchImpl = async (url, init) => {
    const key = `${init.method} ${url}`;
    calls.push({ key, body: init.body ? JSON.parse(init.body) : undefined, init });
    const [status, body] = routes[key] ?? [404, { error: 'no route' }];
    return {
      status,
      ok: status >= 200 && status < 300,
      text: async () => (body === undefined ? '' : JSON.stringify(body)),
    };
  };
  return { fetchImpl, calls };
}

const ENTRY = {
  id: 3, question: '暗証番号を忘れた', answer: '窓口で再設定できます。', category: 'オ', uses: 4,
  created_at: '2026-04-01T00:00:00Z', updated_at: '2026-04-02T00:00:00Z', active: true,
};

test('the draft list is a draft search with the session cookie', async () => {
  const path = '/api/v1/faq?draft=true&limit=100&q=%E6%9A%97%E8%A8%BC&inactive=true';
  const { fetchImpl, calls } = fakeFetch({ [`GET ${path}`]: [200, { entries: [ENTRY] }] });
  const entries = await createFaqApi(fetchImpl).draft('暗証', true);
  assert.equal(calls[0].init.credentials, 'same-origin');
  assert.deepEqual(entries.map((e) => [e.id, e.category, e.updatedAt]), [[3, 'オ', '2026-04-02T00:00:00Z']]);
});

test('creating posts the body; editing puts it to the entry', async () => {
  const { fetchImpl, calls } = fakeFetch({
    'POST /api/v1/faq': [201, ENTRY],
    'PUT /api/v1/faq/3': [200, { ...ENTRY, active: false }],
  });
  const api = createFaqApi(fetchImpl);
  const body = { question: 'q', answer: 'a', category: null, active: true };
  assert.equal((await api.create(body)).id, 3);
  assert.deepEqual(calls[0].body, body);
  assert.equal(calls[0].init.headers['content-type'], 'application/json');
  assert.equal((await api.update(3, { ...body, active: false })).active, false);
  assert.equal(calls[1].key, 'PUT /api/v1/faq/3');
});

test('a 422 carries the field the server names', async () => {
  const { fetchImpl } = fakeFetch({
    'POST /api/v1/faq': [422, { error: 'category: "ZZ" is not a configured category', field: 'category' }],
  });
  await assert.rejects(createFaqApi(fetchImpl).create({}), (error) => error instanceof ApiError
    && error.status === 422 && error.field === 'category'
    && error.serverMessage.startsWith('category:'));
});

test('a 401 on any call means the session is gone', async () => {
  const { fetchImpl } = fakeFetch({ 'GET /api/v1/faq/editions?next=true': [401, { error: 'authentication required' }] });
  await assert.rejects(createFaqApi(fetchImpl).editions(), SessionExpired);
});

test('no answer at all is status 0', async () => {
  const api = createFaqApi(async () => { throw new TypeError('network'); });
  await assert.rejects(api.draft('', false), (error) => error instanceof ApiError && error.status === 0);
});

test('the editions come with the next one; publishing sends the note', async () => {
  const edition = { number: 1, label: '初版', published_at: '2026-04-01T00:00:00Z', published_by: 'sato', note: 'n', entries: 1 };
  const { fetchImpl, calls } = fakeFetch({
    'GET /api/v1/faq/editions?next=true': [200, {
      editions: [edition],
      next: { number: 2, label: '第2版', entries: 1, changes: { added: [], changed: [], removed: [] } },
    }],
    'POST /api/v1/faq/editions': [201, edition],
  });
  const api = createFaqApi(fetchImpl);
  const { editions, next } = await api.editions();
  assert.equal(editions[0].label, '初版');
  assert.equal(next.label, '第2版');
  assert.equal((await api.publish('4月の改正')).number, 1);
  assert.deepEqual(calls[1].body, { note: '4月の改正' });
});

test('nothing to publish is a 409', async () => {
  const { fetchImpl } = fakeFetch({ 'POST /api/v1/faq/editions': [409, { error: 'there are no active FAQ entries to publish' }] });
  await assert.rejects(createFaqApi(fetchImpl).publish(null), (error) => error.status === 409);
});
