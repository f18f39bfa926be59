// The staffing page's question (src/web/assets/manager/staffing-query.mjs): the goal form
// checked in the page, turned into the query of GET /api/v1/staffing and back, and the
// words of the page (staffing-i18n.mjs) complete in both languages.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import {
  formFromWeek, paramsFromSearch, queryString, readForm,
} from '../../src/web/assets/manager/staffing-query.mjs';
import { STAFFING_STRINGS, translate } from '../../src/web/assets/manager/staffing-i18n.mjs';

const form = (overrides = {}) => ({
  targetPercent: '80', thresholdS: '20', weeks: '4', ahtS: '', ...overrides,
});

test('80 % in 20 s over 4 weeks asks target=0.8, threshold=20, weeks=4 and no AHT', () => {
  const { params } = readForm(form());
  assert.deepEqual(params, { target: 0.8, threshold: 20, weeks: 4 });
  assert.equal(queryString(params), 'target=0.8&threshold=20&weeks=4');
});

test('90 % in 10 s is the fraction 0.9, without binary noise', () => {
  const { params } = readForm(form({ targetPercent: '90', thresholdS: '10' }));
  assert.equal(params.target, 0.9);
  assert.equal(queryString(params), 'target=0.9&threshold=10&weeks=4');
  assert.equal(readForm(form({ targetPercent: '92.5' })).params.target, 0.925);
  assert.equal(readForm(form({ targetPercent: '85,5' })).params.target, 0.855, 'a decimal comma is taken');
});

test('an AHT typed in is asked for; an empty one leaves the measured', () => {
  const { params } = readForm(form({ ahtS: ' 240 ' }));
  assert.equal(params.aht, 240);
  assert.equal(queryString(params), 'target=0.8&threshold=20&weeks=4&aht=240');
});

test('a target of 0, 100 or more, or not a number names the target field', () => {
  for (const targetPercent of ['0', '100', '120', '', 'abc', '-5', '0.8e2']) {
    assert.deepEqual(readForm(form({ targetPercent })),
      { field: 'targetPercent', error: 'form.error.target' }, targetPercent);
  }
});

test('a threshold may be 0 s but not negative or beyond an hour', () => {
  assert.equal(readForm(form({ thresholdS: '0' })).params.threshold, 0);
  for (const thresholdS of ['-1', '3601', '', 'x']) {
    assert.equal(readForm(form({ thresholdS })).field, 'thresholdS', thresholdS);
  }
});

test('weeks are a whole number from 1 to 52', () => {
  assert.equal(readForm(form({ weeks: '52' })).params.weeks, 52);
  for (const weeks of ['0', '53', '2.5', '']) {
    assert.deepEqual(readForm(form({ weeks })), { field: 'weeks', error: 'form.error.weeks' }, weeks);
  }
});

test('an AHT of 0 or nonsense is refused instead of silently measured', () => {
  for (const ahtS of ['0', 'abc', '99999']) {
    assert.deepEqual(readForm(form({ ahtS })), { field: 'ahtS', error: 'form.error.aht' }, ahtS);
  }
});

test('the question in the page address is asked again; a bad or missing one is not', () => {
  assert.deepEqual(paramsFromSearch('?target=0.9&threshold=10&weeks=8'),
    { target: 0.9, threshold: 10, weeks: 8 });
  assert.deepEqual(paramsFromSearch('?target=0.9&threshold=10&weeks=8&aht=200'),
    { target: 0.9, threshold: 10, weeks: 8, aht: 200 });
  assert.equal(paramsFromSearch(''), null);
  assert.equal(paramsFromSearch('?lang=en'), null);
  assert.equal(paramsFromSearch('?target=90&threshold=10&weeks=4'), null, 'a percent is not a fraction');
});

test('the form shows the answer’s goal as a percent and leaves the AHT empty unless given', () => {
  const week = { target: 0.9, thresholdS: 10, weeks: 4 };
  assert.deepEqual(formFromWeek(week), { targetPercent: '90', thresholdS: '10', weeks: '4', ahtS: '' });
  assert.equal(formFromWeek(week, 240).ahtS, '240');
  assert.equal(formFromWeek({ target: 0.855, thresholdS: 20, weeks: 1 }).targetPercent, '85.5');
});

test('every word of the page exists in Japanese and English', () => {
  assert.deepEqual(Object.keys(STAFFING_STRINGS.en).sort(), Object.keys(STAFFING_STRINGS.ja).sort());
});

test('the page shares the board’s words for signing in and for managers only', () => {
  assert.equal(translate('ja', 'forbidden.message'), 'このページは管理者専用です。');
  assert.equal(translate('en', 'forbidden.message'), 'This page is for managers only.');
  assert.equal(translate('en', 'signin.submit'), 'Sign in');
  assert.equal(translate('ja', 'app.title'), '要員計画', 'its own title, not the board’s');
  assert.equal(translate('en', 'summary.goal_value', { target: '90%', s: 10 }), '90% answered within 10 s');
  assert.equal(translate('ja', 'no.such.key'), 'no.such.key');
});

test('every data-i18n key of the page has words in both languages', () => {
  const html = readFileSync(new URL('../../src/web/assets/manager/staffing.html', import.meta.url), 'utf8');
  const keys = [...html.matchAll(/data-i18n="([^"]+)"/g)].map((match) => match[1]);
  assert.ok(keys.length > 20, `${keys.length} keys`);
  for (const key of keys) {
    for (const lang of ['ja', 'en']) assert.notEqual(translate(lang, key), key, `${lang} ${key}`);
  }
});
