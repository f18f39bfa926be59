// The tolerant parsing of the API's answers and its 401 handling, the string tables, and
// the spectrum measure behind window.madoguchi.remoteLevel.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  createApi, SessionExpired, ApiError, parseCategories, parseFaqEntries, parseCallSummaries,
} from '../../src/web/assets/agent/api.mjs';
import {
  STRINGS, translate, stateLabel, initialLanguage,
} from '../../src/web/assets/agent/i18n.mjs';
import { toneShare, meterReading } from '../../src/web/assets/agent/spectrum.mjs';
import { formatDuration } from '../../src/web/assets/agent/format.mjs';

function fakeFetch(status, body) {
  const calls = [];
  const fetchImpl = async (url, init) => {
    calls.push({ url, init });
    return {
      status,
      ok: status >= 200 && status < 300,
      text: async () => (body === undefined ? '' : JSON.stringify(body)),
    };
  };
  return { fetchImpl, calls };
}

test('a 401 from any data call is an expired session', async () => {
  const { fetchImpl } = fakeFetch(401, { error: 'no session' });
  const api = createApi(fetchImpl);
  await assert.rejects(api.myCalls(), SessionExpired);
  await assert.rejects(api.categories(), SessionExpired);
  await assert.rejects(api.searchFaq('暗証番号'), SessionExpired);
  await assert.rejects(api.fileClassification('c1', {}), SessionExpired);
});

test('no session on start is null, not an error', async () => {
  const api = createApi(fakeFetch(401, { error: 'no session' }).fetchImpl);
  assert.equal(await api.currentSession(), null);
});

test('a wrong password is a 401 ApiError, a throttled sign-in 429', async () => {
  await assert.rejects(createApi(fakeFetch(401, { error: 'bad credentials' }).fetchImpl)
    .signIn('suzuki', 'x'), (e) => e instanceof ApiError && e.status === 401);
  await assert.rejects(createApi(fakeFetch(429, undefined).fetchImpl)
    .signIn('suzuki', 'x'), (e) => e instanceof ApiError && e.status === 429);
});

test('a 422 keeps the server\'s message and the field it names', async () => {
  const api = createApi(fakeFetch(422, { error: 'category: "コ" is not configured', field: 'category' }).fetchImpl);
  await assert.rejects(api.fileClassification('c1', {}),
    (e) => e instanceof ApiError && e.status === 422
      && e.serverMessage === 'category: "コ" is not configured' && e.field === 'category');
});

test('the classification is posted as JSON to the call\'s endpoint', async () => {
  const { fetchImpl, calls } = fakeFetch(201, undefined);
  await createApi(fetchImpl).fileClassification('c/1', { category: 'イ' });
  assert.equal(calls[0].url, '/api/v1/calls/c%2F1/classification');
  assert.equal(calls[0].init.method, 'POST');
  assert.deepEqual(JSON.parse(calls[0].init.body), { category: 'イ' });
});

test('the FAQ search sends the Japanese text and the limit', async () => {
  const { fetchImpl, calls } = fakeFetch(200, []);
  await createApi(fetchImpl).searchFaq(' 暗証番号 ', 5);
  const url = new URL(calls[0].url, 'http://x');
  assert.equal(url.pathname, '/api/v1/faq');
  assert.equal(url.searchParams.get('q'), '暗証番号');
  assert.equal(url.searchParams.get('limit'), '5');
});

test('categories are read from a list or a wrapper object', () => {
  const expected = [{ code: 'ア', name: 'マイナンバー制度全般' }];
  assert.deepEqual(parseCategories([{ code: 'ア', name: 'マイナンバー制度全般' }]), expected);
  assert.deepEqual(parseCategories({ categories: [{ code: 'ア', name: 'マイナンバー制度全般' }] }), expected);
  assert.deepEqual(parseCategories(null), []);
});

test('FAQ entries without an id are skipped', () => {
  const entries = parseFaqEntries([
    { id: 3, question: 'Q', answer: 'A', category: 'エ', uses: 7 },
    { question: 'no id' },
  ]);
  assert.deepEqual(entries, [{ id: 3, question: 'Q', answer: 'A', category: 'エ', uses: 7 }]);
});

test('call summaries take the documented fields and their likely variants', () => {
  const [a, b] = parseCallSummaries([
    { id: 'c1', arrived_at: '2026-12-01T01:00:00Z', caller: '0467001234', disposition: 'answered',
      talk_ms: 61000, classification: null },
    { call_id: 'c2', started_at: '2026-12-01T02:00:00Z', from: '0312345678', talk_s: 30,
      classification: { category: 'イ', outcome: 'resolved_faq' } },
  ]);
  assert.deepEqual(a, { id: 'c1', arrivedAt: Date.parse('2026-12-01T01:00:00Z'),
    caller: '0467001234', disposition: 'answered', talkMs: 61000, classification: null });
  assert.equal(b.id, 'c2');
  assert.equal(b.talkMs, 30000);
  assert.deepEqual(b.classification, { category: 'イ', outcome: 'resolved_faq' });
});

test('both languages have the same keys and the same placeholders', () => {
  const ja = Object.keys(STRINGS.ja).sort();
  assert.deepEqual(Object.keys(STRINGS.en).sort(), ja);
  const params = (s) => (s.match(/\{\w+\}/g) ?? []).sort();
  for (const key of ja) assert.deepEqual(params(STRINGS.en[key]), params(STRINGS.ja[key]), key);
});

test('the console starts in Japanese unless English was chosen before', () => {
  assert.equal(initialLanguage(null), 'ja');
  assert.equal(initialLanguage('fr'), 'ja');
  assert.equal(initialLanguage('en'), 'en');
});

test('the take-over message is the one the issue asks for', () => {
  assert.equal(translate('ja', 'takenover.message'),
    '別の画面でサインインしたため、この画面は切断されました');
});

test('states are shown with their pause reason', () => {
  assert.equal(stateLabel('ja', 'paused', 'lunch'), '休憩（昼食）');
  assert.equal(stateLabel('ja', 'paused', 'break'), '休憩');
  assert.equal(stateLabel('ja', 'wrap_up', null), '後処理中');
  assert.equal(stateLabel('en', 'paused', 'meeting'), 'Paused (Meeting)');
  assert.equal(stateLabel('en', 'somewhere', null), 'somewhere');
});

test('parameters fill in and missing ones stay visible', () => {
  assert.equal(translate('ja', 'who', { login: 'suzuki' }), 'suzuki でサインイン中');
  assert.equal(translate('en', 'who', {}), 'Signed in as {login}');
  assert.equal(translate('en', 'no.such.key'), 'no.such.key');
});

/** An analyser-like spectrum (dB per bin) of pure tones at `tones` Hz. */
function spectrum(tones, sampleRate = 48000, bins = 2048) {
  const binHz = sampleRate / (2 * bins);
  const power = new Float64Array(bins).fill(1e-9);
  for (const hz of tones) {
    const centre = Math.round(hz / binHz);
    for (let d = -2; d <= 2; d += 1) power[centre + d] += d === 0 ? 1 : 0.2;
  }
  return Float32Array.from(power, (p) => 10 * Math.log10(p));
}

test('a received tone has nearly all the band energy at its frequency', () => {
  const bins = spectrum([1000]);
  assert.ok(toneShare(bins, 48000, 1000) > 0.9);
  assert.ok(toneShare(bins, 48000, 440) < 0.01);
});

test('of two tones each holds about half', () => {
  const share = toneShare(spectrum([440, 1000]), 48000, 440);
  assert.ok(share > 0.4 && share < 0.6, String(share));
});

test('silence gives zero', () => {
  assert.equal(toneShare(new Float32Array(2048).fill(-Infinity), 48000, 1000), 0);
});

test('the level meter reads empty at -60 dBFS and full at 0 dBFS', () => {
  assert.equal(meterReading(0), 0);
  assert.equal(meterReading(0.001), 0);
  assert.equal(meterReading(1), 1);
  assert.ok(Math.abs(meterReading(0.031622) - 0.5) < 0.01);
});

test('durations read m:ss, then h:mm:ss', () => {
  assert.equal(formatDuration(0), '0:00');
  assert.equal(formatDuration(65), '1:05');
  assert.equal(formatDuration(3725), '1:02:05');
  assert.equal(formatDuration(-3), '0:00');
});
