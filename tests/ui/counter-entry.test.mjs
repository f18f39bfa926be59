// The counter page's quick-entry form: what must be filled in, the fee-payment question of a
// loss re-issue, the request body, the remembered seat and the server's field names.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  validateEntry, entryPayload, formFromCase, blankForm, recallSeat, rememberSeat, formFieldOf,
  showsFee, feeRequired, charCount, KINDS, OUTCOMES, SEAT_KEY, SEAT_MAX_CHARS, NOTE_MAX_CHARS,
} from '../../src/web/assets/counter/entry.mjs';

const renewal = { kind: 'renewal', outcome: 'completed', seat: '窓口1', feeConfirmed: false, note: '' };
const lossReissue = { ...renewal, kind: 'loss_reissue' };

/** A localStorage stand-in. */
function memoryStorage() {
  const items = new Map();
  return {
    getItem: (key) => (items.has(key) ? items.get(key) : null),
    setItem: (key, value) => items.set(key, String(value)),
    items,
  };
}

test('the seven kinds come in the order of the city\'s report', () => {
  assert.deepEqual(KINDS, [
    'new_application', 'renewal', 'loss_reissue', 'health_insurance_link',
    'public_funds_account', 'other_linking', 'e_application_help',
  ]);
  assert.deepEqual(OUTCOMES, ['completed', 'continued_later', 'referred', 'not_possible']);
});

test('a renewal with an outcome and a seat passes', () => {
  assert.deepEqual(validateEntry(renewal), {});
});

test('kind, outcome and seat are required', () => {
  assert.deepEqual(validateEntry({ kind: '', outcome: '', seat: '  ', feeConfirmed: false, note: '' }), {
    kind: 'entry.error.kind_required',
    outcome: 'entry.error.outcome_required',
    seat: 'entry.error.seat_required',
  });
});

test('a kind or outcome the API does not know is refused', () => {
  const errors = validateEntry({ ...renewal, kind: 'loss', outcome: 'done' });
  assert.equal(errors.kind, 'entry.error.kind_unknown');
  assert.equal(errors.outcome, 'entry.error.outcome_unknown');
});

test('the fee question is shown for a loss re-issue only', () => {
  assert.equal(showsFee('loss_reissue'), true);
  for (const kind of KINDS.filter((k) => k !== 'loss_reissue')) assert.equal(showsFee(kind), false, kind);
});

test('a completed loss re-issue without the fee confirmed is refused', () => {
  assert.deepEqual(validateEntry(lossReissue), { fee: 'entry.error.fee_required' });
  assert.deepEqual(validateEntry({ ...lossReissue, feeConfirmed: true }), {});
});

test('a loss re-issue continued later may be recorded without the fee', () => {
  const later = { ...lossReissue, outcome: 'continued_later' };
  assert.equal(feeRequired(later), false);
  assert.deepEqual(validateEntry(later), {});
});

test('the seat may have 32 characters, counted as characters', () => {
  const seat = '𠮷'.repeat(SEAT_MAX_CHARS); // two UTF-16 units each
  assert.equal(charCount(seat), SEAT_MAX_CHARS);
  assert.deepEqual(validateEntry({ ...renewal, seat }), {});
  assert.equal(validateEntry({ ...renewal, seat: `${seat}あ` }).seat, 'entry.error.seat_too_long');
});

test('the note may have 1000 characters', () => {
  assert.deepEqual(validateEntry({ ...renewal, note: 'あ'.repeat(NOTE_MAX_CHARS) }), {});
  assert.equal(validateEntry({ ...renewal, note: 'あ'.repeat(NOTE_MAX_CHARS + 1) }).note,
    'entry.error.note_too_long');
});

test('a loss re-issue sends whether the fee was confirmed', () => {
  assert.deepEqual(entryPayload({ ...lossReissue, feeConfirmed: true, note: ' 本人確認済み ' }), {
    kind: 'loss_reissue', outcome: 'completed', seat: '窓口1', fee_payment_confirmed: true,
    note: '本人確認済み',
  });
  assert.equal(entryPayload({ ...lossReissue, outcome: 'not_possible' }).fee_payment_confirmed, false);
});

test('other kinds send no fee field and a blank note as null', () => {
  const body = entryPayload({ ...renewal, feeConfirmed: true, seat: ' 窓口2 ', note: '  ' });
  assert.deepEqual(body, { kind: 'renewal', outcome: 'completed', seat: '窓口2', note: null });
  assert.equal('fee_payment_confirmed' in body, false);
});

test('a stored case fills the form for a correction', () => {
  const form = formFromCase({
    id: 'cc_1', kind: 'loss_reissue', outcome: 'referred', seat: '窓口3', feeConfirmed: false,
    note: null,
  });
  assert.deepEqual(form, {
    kind: 'loss_reissue', outcome: 'referred', seat: '窓口3', feeConfirmed: false, note: '',
  });
});

test('the next case starts blank with 完了 and the same seat', () => {
  assert.deepEqual(blankForm('窓口2'), {
    kind: '', outcome: 'completed', seat: '窓口2', feeConfirmed: false, note: '',
  });
});

test('the seat is remembered and recalled', () => {
  const storage = memoryStorage();
  assert.equal(recallSeat(storage), '');
  rememberSeat(storage, ' 窓口2 ');
  assert.equal(storage.items.get(SEAT_KEY), '窓口2');
  assert.equal(recallSeat(storage), '窓口2');
});

test('a blank or overlong seat is not remembered', () => {
  const storage = memoryStorage();
  rememberSeat(storage, '窓口1');
  rememberSeat(storage, '   ');
  rememberSeat(storage, 'x'.repeat(SEAT_MAX_CHARS + 1));
  assert.equal(recallSeat(storage), '窓口1');
});

test('storage that throws (private mode) neither breaks recall nor remembering', () => {
  const refusing = {
    getItem() { throw new Error('SecurityError'); },
    setItem() { throw new Error('QuotaExceededError'); },
  };
  assert.equal(recallSeat(refusing), '');
  assert.doesNotThrow(() => rememberSeat(refusing, '窓口1'));
  assert.equal(recallSeat(null), '');
});

test('the server\'s field names map to the form\'s fields', () => {
  assert.equal(formFieldOf('fee_payment_confirmed'), 'fee');
  assert.equal(formFieldOf('seat'), 'seat');
  assert.equal(formFieldOf('kind'), 'kind');
  assert.equal(formFieldOf(null), null);
  assert.equal(formFieldOf('category'), null);
});
