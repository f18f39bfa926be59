// Complaint alerts on the board (src/web/assets/manager/alerts.mjs) and who may watch it
// (src/web/assets/manager/session.mjs).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { readComplaint, addAlert, categoryText, readCategories, KEEP } from '../../src/web/assets/manager/alerts.mjs';
import { mayWatch, createSession, signInErrorKey, RequestFailed } from '../../src/web/assets/manager/session.mjs';

const NOW = Date.parse('2026-11-26T01:00:00Z');
const event = (callId, at = '2026-11-26T00:59:58Z') => ({
  call_id: callId, operator: 'suzuki', category: 'イ', outcome: 'other', at,
});

test('a complaint event becomes an alert with its time', () => {
  const alert = readComplaint(event('c1'), NOW);
  assert.deepEqual(alert, {
    callId: 'c1', operator: 'suzuki', category: 'イ', outcome: 'other',
    atMs: Date.parse('2026-11-26T00:59:58Z'),
  });
});

test('an event without a call is ignored', () => {
  assert.equal(readComplaint({ operator: 'x' }, NOW), null);
  assert.equal(readComplaint(null, NOW), null);
});

test('an event without a readable time is stamped with its arrival', () => {
  assert.equal(readComplaint(event('c1', 'soon'), NOW).atMs, NOW);
});

test('the newest alert is listed first', () => {
  let list = [];
  list = addAlert(list, readComplaint(event('c1'), NOW));
  list = addAlert(list, readComplaint(event('c2'), NOW));
  assert.deepEqual(list.map((a) => a.callId), ['c2', 'c1']);
});

test('a call filed again replaces its alert instead of listing it twice', () => {
  let list = [];
  list = addAlert(list, readComplaint(event('c1'), NOW));
  list = addAlert(list, readComplaint(event('c2'), NOW));
  list = addAlert(list, readComplaint({ ...event('c1'), category: 'ウ' }, NOW));
  assert.deepEqual(list.map((a) => [a.callId, a.category]), [['c1', 'ウ'], ['c2', 'イ']]);
});

test('the list keeps the latest alerts only', () => {
  let list = [];
  for (let n = 0; n < KEEP + 5; n += 1) list = addAlert(list, readComplaint(event(`c${n}`), NOW));
  assert.equal(list.length, KEEP);
  assert.equal(list[0].callId, `c${KEEP + 4}`);
});

test('a category is shown with its label when the categories are known', () => {
  const categories = readCategories([{ code: 'イ', label: 'カードの申請' }, { code: 'ウ', label: 'カードの交付' }]);
  assert.equal(categoryText('イ', categories), 'イ カードの申請');
  assert.equal(categoryText('ケ', categories), 'ケ');
  assert.equal(categoryText('イ', []), 'イ');
});

test('managers and admins may watch the board, agents may not', () => {
  assert.equal(mayWatch('manager'), true);
  assert.equal(mayWatch('admin'), true);
  assert.equal(mayWatch('agent'), false);
  assert.equal(mayWatch(null), false);
});

test('no session is null, a session is its login and role', async () => {
  const reply = (status, body) => async () => new Response(body ? JSON.stringify(body) : '', { status });
  assert.equal(await createSession(reply(401, { error: 'authentication required' })).current(), null);
  assert.deepEqual(
    await createSession(reply(200, { login: 'sato', role: 'manager' })).current(),
    { login: 'sato', role: 'manager' },
  );
});

test('a refused sign-in says why', async () => {
  const refuse = (status) => async () => new Response('{}', { status });
  const failure = await createSession(refuse(401)).signIn('x', 'y').catch((e) => e);
  assert.ok(failure instanceof RequestFailed);
  assert.equal(signInErrorKey(failure), 'signin.error.bad_credentials');
  assert.equal(signInErrorKey(new RequestFailed(429)), 'signin.error.rate_limited');
  const offline = await createSession(async () => { throw new TypeError('offline'); })
    .signIn('x', 'y').catch((e) => e);
  assert.equal(signInErrorKey(offline), 'signin.error.network');
});
