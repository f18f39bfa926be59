// Callback requests reach the manager (issue 9): the board's 「折り返し希望」 counter reads
// `today.callbacks` and, while it is above zero, links to the call page's list of today's
// callback requests (live.mjs's callbacksHref); the call page reads that filter from its
// address, asks GET /api/v1/calls for it and lists the calls (call-model.mjs); the call page
// and the console's history name the disposition and its event in both languages.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { callbacksHref, readSnapshot } from '../../src/web/assets/manager/live.mjs';
import {
  callListHref, callListRows, callListUrl, eventLabel, factRows, listFilterFromSearch, readCall,
} from '../../src/web/assets/manager/call-model.mjs';
import { translate as callWords } from '../../src/web/assets/manager/call-i18n.mjs';
import { translate as boardWords } from '../../src/web/assets/manager/i18n.mjs';
import { translate as consoleWords } from '../../src/web/assets/agent/i18n.mjs';

const SINCE = '2026-11-25T15:00:00Z';
const BOARD_HTML = readFileSync(new URL('../../src/web/assets/manager/index.html', import.meta.url), 'utf8');

function snapshotWith(today) {
  return readSnapshot({ at: '2026-11-26T01:00:00Z', today }, Date.parse('2026-11-26T01:00:00Z'));
}

test('the board reads today\'s callback requests as sent', () => {
  const snapshot = snapshotWith({ calls: 4, callbacks: 2, since: SINCE });
  assert.equal(snapshot.today.callbacks, 2);
  assert.equal(snapshot.todaySince, SINCE);
});

test('callback requests link to the call page listing today\'s callback requests', () => {
  const href = callbacksHref(snapshotWith({ callbacks: 1, since: SINCE }));
  assert.equal(href, '/manager/call.html?disposition=callback_requested&from=2026-11-25T15%3A00%3A00Z');
  assert.deepEqual(listFilterFromSearch(href.slice(href.indexOf('?'))), {
    disposition: 'callback_requested', from: SINCE,
  });
});

test('no callback requests today, no link', () => {
  assert.equal(callbacksHref(snapshotWith({ callbacks: 0, since: SINCE })), null);
  assert.equal(callbacksHref(snapshotWith({})), null);
});

test('the board has the counter and names it in both languages', () => {
  assert.match(BOARD_HTML, /data-i18n="today\.callbacks">折り返し希望<\/dt><dd id="today-callbacks"/);
  assert.equal(boardWords('ja', 'today.callbacks'), '折り返し希望');
  assert.equal(boardWords('en', 'today.callbacks'), 'Callback requests');
});

test('the list filter asks the calls API for that disposition since that instant', () => {
  const filter = listFilterFromSearch('?disposition=callback_requested&from=2026-11-25T15:00:00Z');
  assert.equal(
    callListUrl(filter),
    '/api/v1/calls?disposition=callback_requested&from=2026-11-25T15%3A00%3A00Z&per_page=500',
  );
});

test('an address without a disposition is no list; an unreadable from is dropped', () => {
  assert.equal(listFilterFromSearch('?id=abc'), null);
  assert.equal(listFilterFromSearch('?disposition=DROP%20TABLE'), null);
  assert.deepEqual(listFilterFromSearch('?disposition=callback_requested&from=yesterday'), {
    disposition: 'callback_requested', from: null,
  });
  assert.equal(callListHref({ disposition: 'abandoned' }), '/manager/call.html?disposition=abandoned');
});

test('listed calls show arrival in the page\'s zone, the caller, the queue and the wait', () => {
  const rows = callListRows({
    total: 2,
    calls: [
      { id: 'c2', caller: '0462001234', arrived_at: '2026-11-26T00:30:00Z', queue: 'desk', waited_ms: 150_000 },
      { id: '', arrived_at: 'not a date' },
    ],
  }, { timeZone: 'Asia/Tokyo' });
  assert.deepEqual(rows, [{
    id: 'c2',
    href: '/manager/call.html?id=c2',
    arrived: '2026-11-26 09:30:00',
    caller: '0462001234',
    queue: 'desk',
    waited: '2:30',
  }]);
});

test('the call page names the disposition and its event in both languages', () => {
  const call = readCall({ id: 'c1', arrived_at: SINCE, disposition: 'callback_requested' });
  const ja = (key, params) => callWords('ja', key, params);
  const en = (key, params) => callWords('en', key, params);
  const disposition = (t) => factRows(call, { t, timeZone: 'UTC' }).find((r) => r.key === 'disposition').value;
  assert.equal(disposition(ja), '折り返し希望');
  assert.equal(disposition(en), 'Callback requested');
  assert.equal(eventLabel('callback_requested', ja), '折り返し希望');
  assert.equal(eventLabel('callback_requested', en), 'Callback requested');
  assert.equal(eventLabel('queue_left', ja), '待ち行列から離脱');
  assert.equal(ja('reason.early_limit'), '無料で待てる時間の上限');
});

test('the console\'s history names the disposition in both languages', () => {
  assert.equal(consoleWords('ja', 'disposition.callback_requested'), '折り返し希望');
  assert.equal(consoleWords('en', 'disposition.callback_requested'), 'Callback requested');
});
