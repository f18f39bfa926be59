// The waiting callers on the board and the language each chose (src/web/assets/manager/
// live.mjs and i18n.mjs): the engine's WaitingView carries `language`, a dialplan code, or
// null for the default language; `language_wait_s`, how long only operators speaking it are
// offered the caller; and `language_fallback`, "any" once any operator is.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { languageWaitState, readSnapshot, waitingCallers } from '../../src/web/assets/manager/live.mjs';
import {
  languageBadge, languageName, STRINGS, translate,
} from '../../src/web/assets/manager/i18n.mjs';

const AT = '2026-11-26T01:00:00Z';
const AT_MS = Date.parse(AT);

function liveState() {
  return {
    at: AT,
    queues: [
      {
        name: 'card', label: '申請・受け取り', operators_available: 1, operators_logged_in: 2,
        waiting: [
          { call_id: 'c1', position: 1, since: '2026-11-26T00:59:20Z', waited_s: 40, menu_choice: '1', language: null, node: 'a' },
        ],
      },
      {
        name: 'general', label: 'その他のお問い合わせ', operators_available: 0, operators_logged_in: 1,
        waiting: [
          { call_id: 'c2', position: 1, since: '2026-11-26T00:57:00Z', waited_s: 180, menu_choice: '9', language: 'en', node: 'a' },
          { call_id: 'c3', position: 2, since: '2026-11-26T00:59:50Z', waited_s: 10, menu_choice: '2', node: 'b' },
        ],
      },
    ],
    operators: [],
  };
}

test('each waiting caller keeps the language it chose; the default language is null', () => {
  const snapshot = readSnapshot(liveState(), AT_MS);
  const languages = snapshot.queues.flatMap((q) => q.waiting.map((w) => [w.callId, w.language]));
  assert.deepEqual(languages, [['c1', null], ['c2', 'en'], ['c3', null]]);
});

test('a language that is not a dialplan code is not shown', () => {
  const data = liveState();
  for (const language of ['', 7, '<i>en</i>', ['en']]) {
    data.queues[1].waiting[0].language = language;
    assert.equal(readSnapshot(data, AT_MS).queues[1].waiting[0].language, null, JSON.stringify(language));
  }
});

test('the waiting list is every caller, queue by queue in queue order, with the wait ticking', () => {
  const snapshot = readSnapshot(liveState(), AT_MS);
  assert.deepEqual(waitingCallers(snapshot, AT_MS + 2000).map((c) => ({ ...c, sinceMs: undefined })), [
    { callId: 'c1', queue: 'card', queueLabel: '申請・受け取り', position: 1, sinceMs: undefined, waitS: 42, language: null, languageWaitS: null, languageFallback: null },
    { callId: 'c2', queue: 'general', queueLabel: 'その他のお問い合わせ', position: 1, sinceMs: undefined, waitS: 182, language: 'en', languageWaitS: null, languageFallback: null },
    { callId: 'c3', queue: 'general', queueLabel: 'その他のお問い合わせ', position: 2, sinceMs: undefined, waitS: 12, language: null, languageWaitS: null, languageFallback: null },
  ]);
});

test('nobody waiting is an empty list', () => {
  assert.deepEqual(waitingCallers(readSnapshot({ at: AT, queues: [] }, AT_MS), AT_MS), []);
});

test('the badge is the language\'s own name and is read out in the display language', () => {
  assert.equal(languageBadge('en'), 'English');
  assert.equal(languageBadge('ko'), '한국어');
  assert.equal(translate('ja', 'waiting.language_label', { language: languageName('ja', 'en') }),
    '発信者の言語: 英語');
  assert.equal(translate('en', 'waiting.language_label', { language: languageName('en', 'en') }),
    'Caller speaks English');
});

test('a code the board has no name for shows upper-cased', () => {
  assert.equal(languageBadge('tl'), 'TL');
  assert.equal(languageName('en', 'tl'), 'TL');
  assert.equal(languageBadge('hasOwnProperty'), 'HASOWNPROPERTY');
});

test('the waiting list has its words in both display languages', () => {
  const keys = Object.keys(STRINGS.ja).filter((key) => key.startsWith('waiting.'));
  assert.ok(keys.length >= 6);
  for (const key of keys) assert.ok(Object.hasOwn(STRINGS.en, key), key);
});

/** The English caller c2 with its wait for an English speaker (120 s) and its fallback. */
function englishCaller(fields) {
  const data = liveState();
  Object.assign(data.queues[1].waiting[0], { waited_s: 80, since: '2026-11-26T00:58:40Z', language_wait_s: 120, ...fields });
  return waitingCallers(readSnapshot(data, AT_MS), AT_MS).find((c) => c.callId === 'c2');
}

test('an English caller within its wait is shown waiting for an English speaker, the wait of the whole', () => {
  const caller = englishCaller({ language_fallback: null });
  assert.deepEqual(languageWaitState(caller, caller.waitS), { state: 'speaker', waitedS: 80, afterS: 120 });
  assert.equal(translate('ja', 'waiting.language_speaker', { language: languageName('ja', 'en'), waited: '1:20', after: '2:00' }),
    '英語対応者を待機中（1:20 / 2:00）');
  assert.equal(translate('en', 'waiting.language_speaker', { language: languageName('en', 'en'), waited: '1:20', after: '2:00' }),
    'waiting for a speaker of English (1:20 of 2:00)');
});

test('the wait shown for a speaker stops at its end while the engine moves the caller on', () => {
  const caller = englishCaller({ language_fallback: null });
  assert.deepEqual(languageWaitState(caller, 125), { state: 'speaker', waitedS: 120, afterS: 120 });
});

test('an English caller past its wait is shown offered to anyone', () => {
  const caller = englishCaller({ language_fallback: 'any' });
  assert.deepEqual(languageWaitState(caller, caller.waitS), { state: 'anyone' });
  assert.equal(translate('ja', 'waiting.language_anyone'), '→ 全員に案内中');
  assert.equal(translate('en', 'waiting.language_anyone'), '→ anyone');
});

test('a caller in the default language shows no language wait, whatever the fields say', () => {
  const data = liveState();
  Object.assign(data.queues[0].waiting[0], { language_wait_s: 120, language_fallback: 'any' });
  const caller = waitingCallers(readSnapshot(data, AT_MS), AT_MS)[0];
  assert.equal(languageWaitState(caller, caller.waitS), null);
});

test('a fallback other than "any" and a wait that is no number are not shown', () => {
  const caller = englishCaller({ language_fallback: 'city_line', language_wait_s: 'soon' });
  assert.equal(caller.languageFallback, null);
  assert.equal(languageWaitState(caller, caller.waitS), null);
});
