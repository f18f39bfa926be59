// The wrap-up form's checks and request body
// and the keyboard shortcuts.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  validateWrapup, classificationPayload, fieldOfServerError, NOTE_MAX_CHARS, noteLength,
} from '../../src/web/assets/agent/wrapup.mjs';
import { shortcutAction, focusKind } from '../../src/web/assets/agent/shortcuts.mjs';

const CODES = ['ア', 'イ', 'ウ', 'エ', 'オ', 'カ', 'キ', 'ク', 'ケ'];
const filled = { category: 'イ', outcome: 'resolved_faq', complaint: false, faqId: null, note: '' };

test('a form with category and outcome passes', () => {
  assert.deepEqual(validateWrapup(filled, CODES), {});
});

test('category and outcome are required', () => {
  const errors = validateWrapup({ ...filled, category: '', outcome: '' }, CODES);
  assert.deepEqual(errors, {
    category: 'wrapup.error.category_required',
    outcome: 'wrapup.error.outcome_required',
  });
});

test('a category that is not configured is refused', () => {
  assert.equal(validateWrapup({ ...filled, category: 'コ' }, CODES).category,
    'wrapup.error.category_unknown');
});

test('any category passes while the list has not loaded (the server checks)', () => {
  assert.deepEqual(validateWrapup({ ...filled, category: 'コ' }, []), {});
});

test('an outcome outside the five is refused', () => {
  assert.equal(validateWrapup({ ...filled, outcome: 'solved' }, CODES).outcome,
    'wrapup.error.outcome_unknown');
});

test('the note may have 2000 characters, counted as characters not UTF-16 units', () => {
  const kanji = '𠮷'.repeat(NOTE_MAX_CHARS); // outside the BMP: two UTF-16 units each
  assert.equal(noteLength(kanji), NOTE_MAX_CHARS);
  assert.deepEqual(validateWrapup({ ...filled, note: kanji }, CODES), {});
  assert.equal(validateWrapup({ ...filled, note: `${kanji}あ` }, CODES).note,
    'wrapup.error.note_too_long');
});

test('the request body has the API\'s field names and types', () => {
  const body = classificationPayload({
    category: ' イ ', outcome: 'transferred_city', complaint: 'on', faqId: '12', note: ' 再度連絡 ',
  });
  assert.deepEqual(body, {
    category: 'イ', outcome: 'transferred_city', complaint: true, faq_id: 12, note: '再度連絡',
  });
});

test('without a FAQ entry the body says null', () => {
  assert.equal(classificationPayload(filled).faq_id, null);
});

test('a server refusal is shown next to the field it names', () => {
  assert.equal(fieldOfServerError('unknown category "コ"'), 'category');
  assert.equal(fieldOfServerError('outcome must be one of …'), 'outcome');
  assert.equal(fieldOfServerError('faq_id 99 does not exist'), 'faq');
  assert.equal(fieldOfServerError('note is longer than 2000 characters'), 'note');
  assert.equal(fieldOfServerError('call not found'), null);
});

const offered = { phase: 'offered', answering: false };

test('Enter and Space answer an offered call', () => {
  for (const key of ['Enter', ' ']) {
    assert.equal(shortcutAction({ key, repeat: false, focus: 'none', call: offered }), 'answer');
    assert.equal(shortcutAction({ key, repeat: false, focus: 'answer', call: offered }), 'answer');
  }
});

test('Escape declines an offered call, even from a text field', () => {
  assert.equal(shortcutAction({ key: 'Escape', repeat: false, focus: 'text', call: offered }), 'decline');
});

test('typing in a text field or pressing another button does not answer', () => {
  assert.equal(shortcutAction({ key: ' ', repeat: false, focus: 'text', call: offered }), null);
  assert.equal(shortcutAction({ key: 'Enter', repeat: false, focus: 'control', call: offered }), null);
});

test('keys do nothing without an offered call, on auto-repeat or once answering', () => {
  assert.equal(shortcutAction({ key: 'Enter', repeat: false, focus: 'none', call: null }), null);
  assert.equal(shortcutAction({ key: 'Enter', repeat: false, focus: 'none',
    call: { phase: 'connected' } }), null);
  assert.equal(shortcutAction({ key: 'Enter', repeat: true, focus: 'none', call: offered }), null);
  assert.equal(shortcutAction({ key: 'Escape', repeat: false, focus: 'none',
    call: { phase: 'offered', answering: true } }), null);
});

test('focus kinds: text fields, the answer button, other controls', () => {
  assert.equal(focusKind({ tagName: 'TEXTAREA' }), 'text');
  assert.equal(focusKind({ tagName: 'INPUT', type: 'search' }), 'text');
  assert.equal(focusKind({ tagName: 'INPUT', type: 'checkbox' }), 'control');
  assert.equal(focusKind({ tagName: 'BUTTON', id: 'answer' }), 'answer');
  assert.equal(focusKind({ tagName: 'BUTTON', id: 'decline' }), 'control');
  assert.equal(focusKind({ tagName: 'BODY' }), 'none');
  assert.equal(focusKind({ tagName: 'DIV', isContentEditable: true }), 'text');
  assert.equal(focusKind(null), 'none');
});
