// The board's number formats (src/web/assets/manager/format.mjs) and its words
// (src/web/assets/manager/i18n.mjs): SL and rates as whole percents, ASA and AHT as m:ss,
// operator states with their pause reason.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  formatDuration, formatPercent, formatCount, formatClockTime, serviceLevelGrade, NONE,
} from '../../src/web/assets/manager/format.mjs';
import { STRINGS, stateLabel, outcomeLabel, translate } from '../../src/web/assets/manager/i18n.mjs';

test('a service level of 0.8 shows as 80%', () => {
  assert.equal(formatPercent(0.8), '80%');
});

test('percents are rounded to the nearest whole one', () => {
  assert.equal(formatPercent(2 / 3), '67%');
  assert.equal(formatPercent(0.125), '13%');
  assert.equal(formatPercent(0), '0%');
  assert.equal(formatPercent(1), '100%');
});

test('a ratio the engine has no value for yet shows a dash', () => {
  assert.equal(formatPercent(null), NONE);
  assert.equal(formatPercent(undefined), NONE);
  assert.equal(formatDuration(null), NONE);
});

test('AHT of 185.6 seconds shows as 3:06', () => {
  assert.equal(formatDuration(185.6), '3:06');
});

test('ASA under a minute shows as 0:ss and an hour or more as h:mm:ss', () => {
  assert.equal(formatDuration(12.4), '0:12');
  assert.equal(formatDuration(0), '0:00');
  assert.equal(formatDuration(3725), '1:02:05');
});

test('a negative duration (clocks apart) shows as 0:00', () => {
  assert.equal(formatDuration(-3), '0:00');
});

test('counts group thousands', () => {
  assert.equal(formatCount(1234567), '1,234,567');
  assert.equal(formatCount(7), '7');
});

test('clock times are HH:MM:SS in the browser time zone', () => {
  const local = new Date(2026, 10, 25, 9, 5, 7);
  assert.equal(formatClockTime(local), '09:05:07');
  assert.equal(formatClockTime('not a date'), '');
});

test('the service level is graded against an 80% target', () => {
  assert.equal(serviceLevelGrade(0.85), 'good');
  assert.equal(serviceLevelGrade(0.8), 'good');
  assert.equal(serviceLevelGrade(0.75), 'warn');
  assert.equal(serviceLevelGrade(0.5), 'bad');
  assert.equal(serviceLevelGrade(null), 'none');
});

test('operator states read as the city asked: 受付可, 通話中, 呼出中, 後処理, 休憩(理由), ログアウト', () => {
  assert.equal(stateLabel('ja', 'available'), '受付可');
  assert.equal(stateLabel('ja', 'on_call'), '通話中');
  assert.equal(stateLabel('ja', 'ringing'), '呼出中');
  assert.equal(stateLabel('ja', 'wrap_up'), '後処理');
  assert.equal(stateLabel('ja', 'paused', 'lunch'), '休憩（昼食）');
  assert.equal(stateLabel('ja', 'logged_out'), 'ログアウト');
});

test('a plain break is just 休憩, and an unknown reason is shown as given', () => {
  assert.equal(stateLabel('ja', 'paused', 'break'), '休憩');
  assert.equal(stateLabel('ja', 'paused', 'dentist'), '休憩（dentist）');
  assert.equal(stateLabel('en', 'paused', 'no_answer'), 'Paused (no answer)');
});

test('the threshold reads 20秒以内', () => {
  assert.equal(translate('ja', 'kpi.threshold', { s: 20 }), '20秒以内');
});

test('every Japanese string has an English one and the other way round', () => {
  assert.deepEqual(Object.keys(STRINGS.en).sort(), Object.keys(STRINGS.ja).sort());
});

test('outcomes are named, unknown ones shown as their code', () => {
  assert.equal(outcomeLabel('ja', 'resolved_faq'), 'FAQで解決');
  assert.equal(outcomeLabel('ja', 'new_kind'), 'new_kind');
});
