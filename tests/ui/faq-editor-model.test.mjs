// The FAQ editor's rules: what an entry must hold before it is sent, the bodies it sends,
// which entries differ from the latest edition, the field a server refusal names, and the
// addresses of an edition's exports.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  ANSWER_MAX_CHARS, changeMarks, charCount, checkNote, draftQuery, editionLabel, editionLinks,
  entryPayload, fieldOfError, formatDateTime, formFromEntry, pendingCount, QUESTION_MAX_CHARS,
  readEditionList, readEntries, validateEntry,
} from '../../src/web/assets/manager/faq-model.mjs';

test('a question and an answer are required; blanks do not count', () => {
  assert.deepEqual(validateEntry({ question: ' \n', answer: '　', category: '' }), {
    question: 'entry.error.question_required',
    answer: 'entry.error.answer_required',
  });
  assert.deepEqual(validateEntry({ question: '申請方法', answer: '郵送できます。', category: 'イ' }), {});
});

test('lengths are counted in characters as the server counts them, not UTF-16 units', () => {
  const emoji = '𠮷'; // one character, two UTF-16 units
  assert.equal(charCount(emoji.repeat(3)), 3);
  const atLimit = emoji.repeat(QUESTION_MAX_CHARS);
  assert.deepEqual(validateEntry({ question: atLimit, answer: 'a' }), {});
  assert.deepEqual(validateEntry({ question: `${atLimit}あ`, answer: 'a' }), {
    question: 'entry.error.question_too_long',
  });
  assert.deepEqual(validateEntry({ question: 'q', answer: 'あ'.repeat(ANSWER_MAX_CHARS + 1) }), {
    answer: 'entry.error.answer_too_long',
  });
});

test('the category is left to the server, which knows the configured ones', () => {
  assert.deepEqual(validateEntry({ question: 'q', answer: 'a', category: 'ZZ' }), {});
});

test('the body is trimmed, no category is null, and active defaults to true', () => {
  assert.deepEqual(entryPayload({ question: ' 質問 ', answer: '\n回答\n', category: '', active: true }), {
    question: '質問', answer: '回答', category: null, active: true,
  });
  assert.deepEqual(entryPayload({ question: 'q', answer: 'a', category: 'ウ', active: false }).active, false);
  assert.equal(entryPayload({ question: 'q', answer: 'a' }).active, true);
});

test('a stored entry fills the form; none gives an empty active one', () => {
  const [entry] = readEntries({ entries: [{ id: 7, question: 'q', answer: 'a', category: null, active: false, uses: 2, updated_at: '2026-04-01T00:00:00Z' }] });
  assert.deepEqual(formFromEntry(entry), { question: 'q', answer: 'a', category: '', active: false });
  assert.deepEqual(formFromEntry(null), { question: '', answer: '', category: '', active: true });
});

test('a refusal goes next to the field it names, by `field` or by the message', () => {
  assert.equal(fieldOfError('category', 'category: "ZZ" is not a configured category'), 'category');
  assert.equal(fieldOfError(null, 'answer: is empty'), 'answer');
  assert.equal(fieldOfError('note', 'note: too long'), null);
  assert.equal(fieldOfError(null, 'store unavailable'), null);
});

test('entries without an id are dropped; absent fields get safe values', () => {
  const entries = readEntries({ entries: [{ id: 1, question: 'q' }, { question: 'no id' }, null] });
  assert.equal(entries.length, 1);
  assert.deepEqual(entries[0], {
    id: 1, question: 'q', answer: '', category: null, active: true, uses: 0, updatedAt: null,
  });
  assert.deepEqual(readEntries(null), []);
});

const LIST = {
  editions: [
    { number: 2, label: '第2版', published_at: '2026-04-02T01:00:00Z', published_by: 'sato', note: null, entries: 3 },
    { number: 1, label: '初版', published_at: '2026-04-01T01:00:00Z', published_by: 'sato', note: '最初', entries: 2 },
  ],
  next: {
    number: 3,
    label: '第3版',
    entries: 3,
    changes: {
      added: [{ faq_id: 5, question: '新しい', answer: 'a', category: null }],
      changed: [{ faq_id: 2, question: '変えた', answer: 'a', category: 'イ' }],
      removed: [{ faq_id: 1, question: '外した', answer: 'a', category: 'イ' }],
    },
  },
};

test('editions are read oldest first, and the next one with its changes', () => {
  const { editions, next } = readEditionList(LIST);
  assert.deepEqual(editions.map((e) => [e.number, e.label]), [[1, '初版'], [2, '第2版']]);
  assert.equal(editions[0].note, '最初');
  assert.equal(next.label, '第3版');
  assert.equal(pendingCount(next), 3);
  assert.deepEqual(next.changes.changed, [{ id: 2, question: '変えた', category: 'イ' }]);
});

test('each changed entry is marked by how it differs from the latest edition', () => {
  const marks = changeMarks(readEditionList(LIST).next);
  assert.equal(marks.get(5), 'added');
  assert.equal(marks.get(2), 'changed');
  assert.equal(marks.get(1), 'removed');
  assert.equal(marks.get(9), undefined);
  assert.equal(changeMarks(null).size, 0);
  assert.equal(pendingCount(null), 0);
});

test('without a preview there is no next edition; a missing label is the store\'s', () => {
  assert.equal(readEditionList({ editions: [] }).next, null);
  const { editions } = readEditionList({ editions: [{ number: 1 }, { number: 4 }] });
  assert.deepEqual(editions.map((e) => e.label), ['初版', '第4版']);
  assert.equal(editionLabel(1), '初版');
  assert.equal(editionLabel(12), '第12版');
});

test('an edition downloads as Markdown and Excel from the editions API', () => {
  assert.deepEqual(editionLinks(2), {
    md: '/api/v1/faq/editions/2?format=md',
    xlsx: '/api/v1/faq/editions/2?format=xlsx',
  });
  assert.equal(editionLinks(0), null);
  assert.equal(editionLinks('1'), null);
});

test('the draft list asks for draft entries, the inactive ones only when shown', () => {
  const withInactive = new URLSearchParams(draftQuery(' 暗証番号 ', true));
  assert.equal(withInactive.get('draft'), 'true');
  assert.equal(withInactive.get('q'), '暗証番号');
  assert.equal(withInactive.get('inactive'), 'true');
  assert.equal(withInactive.get('limit'), '100');
  const plain = new URLSearchParams(draftQuery('', false));
  assert.equal(plain.has('q'), false);
  assert.equal(plain.has('inactive'), false);
});

test('the publication note is trimmed, blank is none, and it has a limit', () => {
  assert.deepEqual(checkNote('  4月の改正  '), { note: '4月の改正', error: null });
  assert.deepEqual(checkNote(' '), { note: null, error: null });
  assert.equal(checkNote('あ'.repeat(1001)).error, 'publish.error.note_too_long');
});

test('dates show as local YYYY-MM-DD HH:MM; anything else as nothing', () => {
  const local = new Date(2026, 3, 5, 9, 7);
  assert.equal(formatDateTime(local.toISOString()), '2026-04-05 09:07');
  assert.equal(formatDateTime(null), '');
  assert.equal(formatDateTime('not a date'), '');
});
