// The call page's words and markup (src/web/assets/manager/call-i18n.mjs, call.html,
// call.mjs, call.css): both languages have the same keys, every key the page and its script
// ask for exists, the page has the manager pages' door, the printed document hides the
// screen's controls on A4, and the page's script writes nothing to the console (the record
// holds the caller's number and the note).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { CALL_STRINGS, codeLabel, hasWords, translate } from '../../src/web/assets/manager/call-i18n.mjs';
import { STRINGS as BOARD_STRINGS } from '../../src/web/assets/manager/i18n.mjs';

const read = (name) => readFileSync(new URL(`../../src/web/assets/manager/${name}`, import.meta.url), 'utf8');
const HTML = read('call.html');
const SCRIPT = read('call.mjs');
const MODEL = read('call-model.mjs');
const CSS = read('call.css');

const known = (lang, key) => Object.hasOwn(CALL_STRINGS[lang], key) || Object.hasOwn(BOARD_STRINGS[lang], key);

test('Japanese and English have the same keys', () => {
  assert.deepEqual(Object.keys(CALL_STRINGS.en).sort(), Object.keys(CALL_STRINGS.ja).sort());
});

test('every data-i18n of the page has words in both languages', () => {
  const keys = [...HTML.matchAll(/data-i18n="([^"]+)"/g)].map((m) => m[1]);
  assert.ok(keys.length > 10);
  for (const key of keys) {
    for (const lang of ['ja', 'en']) assert.ok(known(lang, key), `${lang}: ${key}`);
  }
});

test('every literal key the script and the model ask for has words in both languages', () => {
  const keys = [...`${SCRIPT}\n${MODEL}`.matchAll(/\bt\('([a-z_]+\.[a-z_.]+|yes|no)'/g)].map((m) => m[1]);
  assert.ok(keys.length > 20, `found ${keys.length}`);
  for (const key of keys) {
    for (const lang of ['ja', 'en']) assert.ok(known(lang, key), `${lang}: ${key}`);
  }
});

test('the board\'s words are found through the page\'s table, the page\'s own come first', () => {
  assert.equal(translate('ja', 'signin.heading'), BOARD_STRINGS.ja['signin.heading']);
  assert.equal(translate('en', 'outcome.callback_needed'), 'Callback needed');
  assert.equal(translate('ja', 'app.title'), '通話記録');
  assert.equal(translate('en', 'recording.paused_span', { from: '0:42', to: '1:05' }), 'paused 0:42–1:05');
  assert.equal(translate('ja', 'recording.paused_span', { from: '0:42', to: '1:05' }), '一時停止 0:42–1:05');
  assert.equal(translate('ja', 'no.such.key'), 'no.such.key');
});

test('a code is shown in words when it has some, else as itself', () => {
  assert.equal(codeLabel('ja', 'outcome', 'callback_needed'), '折り返し必要');
  assert.equal(codeLabel('en', 'recording.status', 'interrupted'), 'interrupted');
  assert.equal(codeLabel('ja', 'outcome', 'something_new'), 'something_new');
  assert.equal(codeLabel('ja', 'outcome', null), '');
  assert.ok(hasWords('print.title.complaint'));
});

test('the printed titles are the ones handed to the city', () => {
  assert.equal(CALL_STRINGS.ja['print.title.complaint'], '苦情対応記録');
  assert.equal(CALL_STRINGS.ja['print.button'], '印刷 / PDF 保存');
});

test('the page has the manager pages\' door and loads only its own files', () => {
  for (const [id, heading] of [['sign-in-view', 'sign-in-heading'], ['forbidden-view', 'forbidden-message']]) {
    assert.ok(
      HTML.includes(`<section id="${id}" class="sign-in" aria-labelledby="${heading}" hidden></section>`),
      `#${id}`,
    );
  }
  for (const id of ['loading', 'who', 'sign-out', 'call-view', 'print', 'audio', 'download']) {
    assert.match(HTML, new RegExp(`id="${id}"`), `#${id}`);
  }
  const loaded = [...HTML.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
  for (const url of loaded) {
    assert.ok(url.startsWith('/manager') || url.startsWith('data:') || url === '#main', url);
  }
  assert.doesNotMatch(HTML, /<script(?![^>]*src=)/, 'no inline script under the CSP');
  assert.doesNotMatch(HTML, /style="/, 'no inline style under the CSP');
});

test('the player fetches nothing until play is pressed', () => {
  assert.match(HTML, /<audio id="audio" controls preload="none">/);
});

test('the print stylesheet is A4 and hides the screen\'s controls', () => {
  assert.match(CSS, /@page\s*\{[^}]*size:\s*A4/);
  const print = CSS.slice(CSS.indexOf('@media print'));
  assert.ok(print.length > 100, 'a print block');
  for (const selector of ['.topbar', '.screen-only', '.sign-in']) {
    assert.ok(print.includes(selector), `${selector} in the print rules`);
  }
  for (const id of ['print', 'player', 'open-form']) {
    const tag = HTML.match(new RegExp(`<[^>]*id="${id}"[^>]*>`))?.[0] ?? '';
    assert.match(tag, /screen-only/, `#${id} is not printed`);
  }
  assert.match(HTML, /id="printed" class="printed print-only"/);
});

test('the page\'s script never writes to the console', () => {
  for (const source of [SCRIPT, MODEL]) assert.doesNotMatch(source, /console\./);
});
