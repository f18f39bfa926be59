// The quick-entry form's rules: the kinds and outcomes it offers, what must be filled in,
// the body sent to `POST /api/v1/counter/cases` (and `PUT …/{id}` for a correction), and the
// seat remembered between cases. The server checks again; these checks spare a round trip.

/** Kinds in the order of the city's report (values as the API names them). */
export const KINDS = [
  'new_application',
  'renewal',
  'loss_reissue',
  'health_insurance_link',
  'public_funds_account',
  'other_linking',
  'e_application_help',
];

/** The one kind whose cases say whether the fee payment was confirmed. */
export const FEE_KIND = 'loss_reissue';

export const OUTCOMES = ['completed', 'continued_later', 'referred', 'not_possible'];

export const SEAT_MAX_CHARS = 32;
export const NOTE_MAX_CHARS = 1000;

/** Where the seat is remembered (localStorage), so each case starts with it filled in. */
export const SEAT_KEY = 'madoguchi.counter.seat';

/** Length as the server counts it: characters (code points), not UTF-16 units. */
export function charCount(text) {
  return [...String(text ?? '')].length;
}

/** Whether the fee-payment checkbox is shown for this kind. */
export function showsFee(kind) {
  return kind === FEE_KIND;
}

/**
 * Whether the checkbox must be ticked: a loss re-issue is completed only once the fee is
 * paid. For a loss re-issue with another outcome the box says what happened (ticked or not).
 */
export function feeRequired(form) {
  return showsFee(form.kind) && form.outcome === 'completed';
}

/**
 * Checks the form's values ({kind, outcome, seat, feeConfirmed, note}).
 * Returns {field: messageKey} for each problem; an empty object means the form can be sent.
 */
export function validateEntry(form) {
  const errors = {};
  if (!form.kind) errors.kind = 'entry.error.kind_required';
  else if (!KINDS.includes(form.kind)) errors.kind = 'entry.error.kind_unknown';
  if (!form.outcome) errors.outcome = 'entry.error.outcome_required';
  else if (!OUTCOMES.includes(form.outcome)) errors.outcome = 'entry.error.outcome_unknown';
  const seat = String(form.seat ?? '').trim();
  if (!seat) errors.seat = 'entry.error.seat_required';
  else if (charCount(seat) > SEAT_MAX_CHARS) errors.seat = 'entry.error.seat_too_long';
  if (feeRequired(form) && !form.feeConfirmed) errors.fee = 'entry.error.fee_required';
  if (charCount(String(form.note ?? '').trim()) > NOTE_MAX_CHARS) {
    errors.note = 'entry.error.note_too_long';
  }
  return errors;
}

/** The request body: `fee_payment_confirmed` only for a loss re-issue, a blank note as null. */
export function entryPayload(form) {
  const body = {
    kind: form.kind,
    outcome: form.outcome,
    seat: String(form.seat ?? '').trim(),
    note: String(form.note ?? '').trim() || null,
  };
  if (showsFee(form.kind)) body.fee_payment_confirmed = Boolean(form.feeConfirmed);
  return body;
}

/** The form's values for correcting a stored case (as the API shows it). */
export function formFromCase(item) {
  return {
    kind: item.kind,
    outcome: item.outcome,
    seat: item.seat ?? '',
    feeConfirmed: item.feeConfirmed === true,
    note: item.note ?? '',
  };
}

/**
 * An empty form for the next case: no kind, the outcome most cases have (完了), and the seat
 * kept, so a case is two clicks and Enter.
 */
export function blankForm(seat = '') {
  return { kind: '', outcome: 'completed', seat: String(seat ?? ''), feeConfirmed: false, note: '' };
}

/** The remembered seat, or '' (no storage, nothing stored, or storage refused). */
export function recallSeat(storage) {
  try {
    const seat = storage?.getItem(SEAT_KEY);
    return typeof seat === 'string' ? seat.slice(0, 200) : '';
  } catch {
    return '';
  }
}

/** Remembers a seat that passed the checks; storage failures are harmless. */
export function rememberSeat(storage, seat) {
  const trimmed = String(seat ?? '').trim();
  if (!trimmed || charCount(trimmed) > SEAT_MAX_CHARS) return;
  try {
    storage?.setItem(SEAT_KEY, trimmed);
  } catch {
    // Private mode or a full quota: the seat is typed again next time.
  }
}

const SERVER_FIELDS = {
  kind: 'kind',
  outcome: 'outcome',
  seat: 'seat',
  fee_payment_confirmed: 'fee',
  note: 'note',
};

/** The form field a server 422 is about (its `field`), or null for the whole form. */
export function formFieldOf(serverField) {
  return SERVER_FIELDS[serverField] ?? null;
}
