// The FAQ editor's words: its own in both languages, the board's for what the two pages
// share, and edition names as the store gives them.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { editionName, FAQ_STRINGS, translate } from '../../src/web/assets/manager/faq-i18n.mjs';

test('every key has both languages', () => {
  assert.deepEqual(Object.keys(FAQ_STRINGS.en).sort(), Object.keys(FAQ_STRINGS.ja).sort());
});

test('the same parameters appear in both languages', () => {
  const names = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const key of Object.keys(FAQ_STRINGS.ja)) {
    assert.deepEqual(names(FAQ_STRINGS.en[key]), names(FAQ_STRINGS.ja[key]), key);
  }
});

test('the editor says "managers only" and signs in with the board\'s words', () => {
  assert.equal(translate('ja', 'forbidden.message'), 'このページは管理者専用です。');
  assert.equal(translate('en', 'signin.heading'), 'Manager sign-in');
  assert.equal(translate('ja', 'app.title'), 'FAQ編集');
});

test('parameters are filled in', () => {
  assert.equal(translate('ja', 'publish.button', { label: '第2版' }), '第2版を公開…');
  assert.equal(
    translate('en', 'status.pending', { added: 1, changed: 2, removed: 0 }),
    'Unpublished changes: 1 added, 2 changed, 0 removed',
  );
});

test('editions are named as the store names them, with the number in English', () => {
  assert.equal(editionName('ja', { number: 1, label: '初版' }), '初版');
  assert.equal(editionName('en', { number: 2, label: '第2版' }), 'Edition 2 (第2版)');
  assert.equal(editionName('ja', null), '');
});
