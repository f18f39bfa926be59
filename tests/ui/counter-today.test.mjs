// The counter page's view of today: counts by kind, the day's hours in words, local times,
// which cases may still be corrected, and the fee column.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  kindCounts, hoursMessage, clockTime, canCorrect, localDate, feeKey, newestFirst,
} from '../../src/web/assets/counter/today.mjs';
import { translate, STRINGS } from '../../src/web/assets/counter/i18n.mjs';

const TOKYO = 'Asia/Tokyo';

test('the server\'s counts cover the day, every kind in report order, with the total', () => {
  const { counts, total } = kindCounts(
    [{ kind: 'renewal', count: 3 }, { kind: 'loss_reissue', count: 1 }],
    [{ kind: 'renewal' }],
  );
  assert.equal(counts.length, 7);
  assert.deepEqual(counts.slice(0, 3), [
    { kind: 'new_application', count: 0 },
    { kind: 'renewal', count: 3 },
    { kind: 'loss_reissue', count: 1 },
  ]);
  assert.equal(total, 4);
});

test('without the server\'s counts the listed cases are counted', () => {
  const { counts, total } = kindCounts([], [
    { kind: 'renewal' }, { kind: 'renewal' }, { kind: 'e_application_help' },
  ]);
  assert.equal(counts.find((c) => c.kind === 'renewal').count, 2);
  assert.equal(counts.find((c) => c.kind === 'e_application_help').count, 1);
  assert.equal(total, 3);
});

test('an open day shows its hours and whether it is open now', () => {
  const hours = { open: true, from: '08:30', to: '17:15', openNow: true };
  const message = hoursMessage(hours);
  assert.deepEqual(message, { key: 'hours.open_now', params: { from: '08:30', to: '17:15' } });
  assert.equal(translate('ja', message.key, message.params), '08:30〜17:15（受付中）');
  assert.equal(hoursMessage({ ...hours, openNow: false }).key, 'hours.open_closed_now');
  assert.equal(hoursMessage({ ...hours, openNow: null }).key, 'hours.open');
});

test('a holiday is closed and named', () => {
  const message = hoursMessage({ open: false, closedReason: 'holiday', label: '海の日' });
  assert.equal(translate('ja', message.key, message.params), '休業（海の日）');
});

test('a day without hours and an unknown calendar have their own words', () => {
  assert.equal(hoursMessage({ open: false, closedReason: 'no_hours' }).key, 'hours.closed.no_hours');
  assert.equal(hoursMessage(null).key, 'hours.unknown');
});

test('times are shown in the counter\'s time zone', () => {
  // 23:45 UTC is 08:45 the next morning in Tokyo.
  assert.equal(clockTime('2026-06-09T23:45:00Z', TOKYO), '08:45');
  assert.equal(localDate('2026-06-09T23:45:00Z', TOKYO), '2026-06-10');
  assert.equal(clockTime('not a time', TOKYO), '');
});

test('staff may correct their own case of today only; managers any', () => {
  const mine = { staff: 'tanaka', at: '2026-06-10T01:00:00Z' };
  const staff = { login: 'tanaka', role: 'agent' };
  assert.equal(canCorrect(mine, staff, '2026-06-10', TOKYO), true);
  assert.equal(canCorrect(mine, staff, '2026-06-11', TOKYO), false);
  assert.equal(canCorrect({ ...mine, staff: 'sato' }, staff, '2026-06-10', TOKYO), false);
  assert.equal(canCorrect({ ...mine, staff: 'sato' }, { login: 'mgr', role: 'manager' }, '2026-06-11', TOKYO), true);
  assert.equal(canCorrect(mine, null, '2026-06-10', TOKYO), false);
});

test('the fee column is empty for kinds without the question', () => {
  assert.equal(feeKey({ feeConfirmed: true }), 'fee.confirmed');
  assert.equal(feeKey({ feeConfirmed: false }), 'fee.not_confirmed');
  assert.equal(feeKey({ feeConfirmed: null }), null);
});

test('cases are listed newest first', () => {
  const ordered = newestFirst([
    { id: 'a', at: '2026-06-10T01:00:00Z' },
    { id: 'b', at: '2026-06-10T03:00:00Z' },
    { id: 'c', at: '2026-06-10T02:00:00Z' },
  ]);
  assert.deepEqual(ordered.map((c) => c.id), ['b', 'c', 'a']);
});

test('every Japanese string has an English one and the other way round', () => {
  assert.deepEqual(Object.keys(STRINGS.en).sort(), Object.keys(STRINGS.ja).sort());
});

test('every kind and outcome has a label in both languages', () => {
  for (const lang of ['ja', 'en']) {
    for (const code of ['new_application', 'renewal', 'loss_reissue', 'health_insurance_link',
      'public_funds_account', 'other_linking', 'e_application_help']) {
      assert.notEqual(translate(lang, `kind.${code}`), `kind.${code}`, `${lang} ${code}`);
    }
  }
  assert.equal(translate('ja', 'kind.health_insurance_link'), '健康保険証利用登録');
  assert.equal(translate('ja', 'outcome.referred'), '他窓口案内');
});
