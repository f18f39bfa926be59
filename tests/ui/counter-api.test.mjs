// The counter page's API client against a fake fetch: the requests it sends and how it reads
// the answers (sessions, hours, a day's cases, 422 field errors, expiry).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  createCounterApi, SessionExpired, ApiError, parseCase, parseHours,
} from '../../src/web/assets/counter/api.mjs';

/** A fetch that answers from `routes` ("METHOD /path" → [status, body]) and records calls. */
function fakeFetch(routes) {
  const calls = [];
  const fetchImpl = async (url, init) => {
    const key = `${init.method} ${url}`;
    calls.push({ key, body: init.body ? JSON.parse(init.body) : undefined });
    const [status, body] = routes[key] ?? [404, { error: 'no route' }];
    return {
      status,
      ok: status >= 200 && status < 300,
      text: async () => (body === undefined ? '' : JSON.stringify(body)),
    };
  };
  return { fetchImpl, calls };
}

const CASE = {
  id: 'cc_1', at: '2026-06-10T01:00:00.000Z', kind: 'loss_reissue', kind_label: '紛失再交付',
  outcome: 'completed', outcome_label: '完了', seat: '窓口1', fee_payment_confirmed: true,
  staff: 'tanaka', note: null, node_id: 'node1', outside_hours: false,
};

test('recording posts the body and reads the stored case', async () => {
  const { fetchImpl, calls } = fakeFetch({ 'POST /api/v1/counter/cases': [201, CASE] });
  const api = createCounterApi(fetchImpl);
  const body = { kind: 'loss_reissue', outcome: 'completed', seat: '窓口1', fee_payment_confirmed: true, note: null };
  const saved = await api.record(body);
  assert.deepEqual(calls[0].body, body);
  assert.equal(saved.id, 'cc_1');
  assert.equal(saved.feeConfirmed, true);
  assert.equal(saved.outsideHours, false);
});

test('a 422 carries the field the server names', async () => {
  const { fetchImpl } = fakeFetch({
    'POST /api/v1/counter/cases': [422, {
      error: 'fee_payment_confirmed: is required for loss_reissue: true or false',
      field: 'fee_payment_confirmed',
    }],
  });
  const api = createCounterApi(fetchImpl);
  await assert.rejects(api.record({}), (error) => error instanceof ApiError
    && error.status === 422 && error.field === 'fee_payment_confirmed');
});

test('a 401 on a call means the session is gone', async () => {
  const { fetchImpl } = fakeFetch({ 'POST /api/v1/counter/cases': [401, { error: 'authentication required' }] });
  await assert.rejects(createCounterApi(fetchImpl).record({}), SessionExpired);
});

test('a wrong password is an ApiError 401, not an expiry', async () => {
  const { fetchImpl } = fakeFetch({ 'POST /api/v1/session': [401, { error: 'wrong login or password' }] });
  await assert.rejects(createCounterApi(fetchImpl).signIn('tanaka', 'x'),
    (error) => error instanceof ApiError && error.status === 401);
});

test('a day\'s cases are asked for by date, 500 at most, with the counts', async () => {
  const { fetchImpl, calls } = fakeFetch({
    'GET /api/v1/counter/cases?date=2026-06-10&per_page=500': [200, {
      page: 1, per_page: 500, total: 1,
      by_kind: [{ kind: 'loss_reissue', label: '紛失再交付', count: 1 }],
      cases: [CASE],
    }],
  });
  const page = await createCounterApi(fetchImpl).casesOn('2026-06-10');
  assert.equal(calls.length, 1);
  assert.equal(page.total, 1);
  assert.deepEqual(page.byKind, [{ kind: 'loss_reissue', count: 1 }]);
  assert.equal(page.cases[0].staff, 'tanaka');
});

test('the hours are read; a dialplan without a counter calendar gives null', async () => {
  const hours = {
    date: '2026-06-10', time_zone: 'Asia/Tokyo', open: true, from: '08:30', to: '17:15',
    ranges: [{ from: '08:30', to: '17:15' }], closed_reason: null, label: null, open_now: true,
  };
  const { fetchImpl } = fakeFetch({ 'GET /api/v1/counter/hours': [200, hours] });
  assert.deepEqual(await createCounterApi(fetchImpl).hours(), {
    date: '2026-06-10', timeZone: 'Asia/Tokyo', open: true, from: '08:30', to: '17:15',
    closedReason: null, label: null, openNow: true,
  });
  const none = fakeFetch({ 'GET /api/v1/counter/hours': [404, { error: 'no counter calendar' }] });
  assert.equal(await createCounterApi(none.fetchImpl).hours(), null);
});

test('a correction is a PUT to the case', async () => {
  const { fetchImpl, calls } = fakeFetch({ 'PUT /api/v1/counter/cases/cc_1': [200, CASE] });
  await createCounterApi(fetchImpl).correct('cc_1', { kind: 'renewal' });
  assert.equal(calls[0].key, 'PUT /api/v1/counter/cases/cc_1');
});

test('answers that are not cases or hours read as null', () => {
  assert.equal(parseCase(null), null);
  assert.equal(parseCase({ kind: 'renewal' }), null);
  assert.equal(parseHours({ open: true }), null);
});
