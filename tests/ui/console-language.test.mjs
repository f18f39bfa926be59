// The caller's language on the operator console (src/web/assets/agent/console-state.mjs and
// i18n.mjs): a caller who chose another language in the menu is offered with a `language`
// code; the call card shows a badge and the ringing notice says it. The default language
// comes as null or not at all and shows nothing.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  initialState, step, languageView, languageFallbackView,
} from '../../src/web/assets/agent/console-state.mjs';
import {
  announcementText, languageBadge, languageName, translate,
} from '../../src/web/assets/agent/i18n.mjs';

const T0 = Date.parse('2026-12-01T01:00:00Z');

function run(events) {
  let state = initialState();
  let effects = [];
  for (const event of events) {
    ({ state, effects } = step(state, event, T0));
  }
  return { state, effects };
}

const server = (message) => ({ type: 'server', message });
const signedIn = { type: 'signed_in', login: 'suzuki', role: 'agent' };
const welcome = (fields = {}) => server({
  type: 'welcome', login: 'suzuki', state: 'available', reason: null, media: false, ...fields,
});
const card = (fields = {}) => ({
  call_id: 'c1', caller: '0467001234', queue: 'general', waited_s: 42, menu_choice: '9', ...fields,
});
const offered = (fields) => server({ type: 'offered', ...card(fields) });

/** The ringing notice as the shell words it. */
function ringingNotice(effects, lang) {
  const notice = effects.find((e) => e.type === 'announce' && e.urgent);
  return announcementText(lang, notice.key, notice.params);
}

test('an offered English caller shows the English badge', () => {
  const { state } = run([signedIn, welcome(), offered({ language: 'en' })]);
  assert.equal(languageView(state.call), 'en');
  assert.equal(languageBadge(languageView(state.call)), 'English');
});

test('a caller in the default language shows no badge, whether null or absent', () => {
  for (const fields of [{ language: null }, {}]) {
    const { state } = run([signedIn, welcome(), offered(fields)]);
    assert.equal(languageView(state.call), null, JSON.stringify(fields));
  }
});

test('the ringing notice says the language before the wait', () => {
  const { effects } = run([signedIn, welcome(), offered({ language: 'en' })]);
  assert.equal(ringingNotice(effects, 'ja'),
    '着信です。英語の通話です。待ち時間 42 秒。Enter で応答、Esc で拒否。');
  assert.equal(ringingNotice(effects, 'en'),
    'Incoming call in English, waited 42 seconds. Enter answers, Escape declines.');
});

test('the ringing notice of a default-language caller names no language', () => {
  const { effects } = run([signedIn, welcome(), offered({})]);
  assert.equal(ringingNotice(effects, 'ja'), '着信です。待ち時間 42 秒。Enter で応答、Esc で拒否。');
});

test('the badge stays on the answered call and on the ended call being wrapped up', () => {
  const connected = run([signedIn, welcome(), offered({ language: 'en' }),
    server({ type: 'state', state: 'on_call', reason: null }),
    server({ type: 'connected', call_id: 'c1' })]);
  assert.equal(connected.state.call.phase, 'connected');
  assert.equal(languageView(connected.state.call), 'en');
  const { state } = step(connected.state, server({ type: 'ended', call_id: 'c1', reason: 'ended' }), T0);
  assert.equal(state.call.phase, 'ended');
  assert.equal(languageView(state.call), 'en');
});

test('a page reloaded during the call learns the language from the welcome', () => {
  const { state } = run([signedIn,
    welcome({ state: 'on_call', call: { ...card({ language: 'en' }), connected: true } })]);
  assert.equal(state.call.phase, 'connected');
  assert.equal(languageView(state.call), 'en');
});

test('a language that is not a code is ignored rather than shown', () => {
  for (const language of ['', 42, '<b>en</b>', { code: 'en' }]) {
    const { state } = run([signedIn, welcome(), offered({ language })]);
    assert.equal(languageView(state.call), null, JSON.stringify(language));
  }
});

test('a code without a name shows upper-cased, a regional variant by its language', () => {
  assert.equal(languageBadge('tl'), 'TL');
  assert.equal(languageName('ja', 'tl'), 'TL');
  assert.equal(languageBadge('zh-Hant'), '中文');
  assert.equal(languageName('ja', 'zh-Hant'), '中国語');
  assert.equal(languageName('en', 'vi'), 'Vietnamese');
  assert.equal(languageBadge('constructor'), 'CONSTRUCTOR', 'not a property of every object');
});

test('an English caller offered after the wait for an English speaker says it came to all', () => {
  const { state, effects } = run([signedIn, welcome(), offered({ language: 'en', language_fallback: 'any' })]);
  assert.equal(languageView(state.call), 'en');
  assert.equal(languageFallbackView(state.call), 'any');
  assert.equal(`${languageBadge('en')}${translate('ja', 'call.language_fallback', { language: languageName('ja', 'en') })}`,
    'English（英語対応者なし・全員へ）');
  assert.equal(`${languageBadge('en')}${translate('en', 'call.language_fallback', { language: languageName('en', 'en') })}`,
    'English (no English speaker free, offered to all)');
  assert.equal(ringingNotice(effects, 'ja'),
    '着信です。英語の通話です。英語対応者が応答しなかったため全員に着信しています。待ち時間 42 秒。Enter で応答、Esc で拒否。');
});

test('an English caller offered within its wait, or with no fallback named, says nothing more', () => {
  for (const fields of [{ language_fallback: null }, {}, { language_fallback: 'city_line' }]) {
    const { state, effects } = run([signedIn, welcome(), offered({ language: 'en', ...fields })]);
    assert.equal(languageFallbackView(state.call), null, JSON.stringify(fields));
    assert.equal(ringingNotice(effects, 'en'),
      'Incoming call in English, waited 42 seconds. Enter answers, Escape declines.');
  }
});

test('a fallback without a language is not shown', () => {
  const { state } = run([signedIn, welcome(), offered({ language: null, language_fallback: 'any' })]);
  assert.equal(languageFallbackView(state.call), null);
});

test('the fallback stays on the answered call and comes back with the welcome after a reload', () => {
  const connected = run([signedIn, welcome(), offered({ language: 'en', language_fallback: 'any' }),
    server({ type: 'state', state: 'on_call', reason: null }),
    server({ type: 'connected', call_id: 'c1' })]);
  assert.equal(languageFallbackView(connected.state.call), 'any');
  const { state } = run([signedIn, welcome({
    state: 'on_call', call: { ...card({ language: 'en', language_fallback: 'any' }), connected: true },
  })]);
  assert.equal(languageFallbackView(state.call), 'any');
});
