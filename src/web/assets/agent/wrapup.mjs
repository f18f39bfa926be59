// The wrap-up (classification) form's rules: what is required, what is sent to
// `POST /api/v1/calls/{id}/classification`, and which field a server refusal is about.
// The server checks again; these checks only spare the operator a round trip.

/** Outcomes in the order the form offers them (values as the API names them). */
export const OUTCOMES = [
  'resolved_faq',
  'transferred_city',
  'referred_other_agency',
  'callback_needed',
  'other',
];

export const NOTE_MAX_CHARS = 2000;

/** Length of a note as the server counts it: characters (code points), not UTF-16 units. */
export function noteLength(note) {
  return [...String(note ?? '')].length;
}

/**
 * Checks a form's values ({category, outcome, complaint, faqId, note}).
 * `categoryCodes` lists the configured category codes; when empty, any non-empty code passes
 * (the list may not have loaded and the server checks anyway).
 * Returns {field: messageKey} for each problem; an empty object means the form can be sent.
 */
export function validateWrapup(form, categoryCodes = []) {
  const errors = {};
  const category = String(form.category ?? '').trim();
  if (!category) {
    errors.category = 'wrapup.error.category_required';
  } else if (categoryCodes.length > 0 && !categoryCodes.includes(category)) {
    errors.category = 'wrapup.error.category_unknown';
  }
  const outcome = String(form.outcome ?? '');
  if (!outcome) {
    errors.outcome = 'wrapup.error.outcome_required';
  } else if (!OUTCOMES.includes(outcome)) {
    errors.outcome = 'wrapup.error.outcome_unknown';
  }
  if (noteLength(form.note) > NOTE_MAX_CHARS) {
    errors.note = 'wrapup.error.note_too_long';
  }
  return errors;
}

/** The request body for the classification endpoint. */
export function classificationPayload(form) {
  const faqId = form.faqId === null || form.faqId === undefined || form.faqId === ''
    ? null
    : Number(form.faqId);
  return {
    category: String(form.category ?? '').trim(),
    outcome: String(form.outcome ?? ''),
    complaint: Boolean(form.complaint),
    faq_id: Number.isFinite(faqId) ? faqId : null,
    note: String(form.note ?? '').trim(),
  };
}

const SERVER_FIELDS = [
  ['category', 'category'],
  ['outcome', 'outcome'],
  ['faq_id', 'faq'],
  ['faq', 'faq'],
  ['note', 'note'],
  ['complaint', 'complaint'],
];

/**
 * The form field a server error message names (the server's 422 says which field), or null
 * when it names none; the message is then shown for the whole form.
 */
export function fieldOfServerError(message) {
  const text = String(message ?? '').toLowerCase();
  for (const [word, field] of SERVER_FIELDS) {
    if (new RegExp(`\\b${word}\\b`).test(text)) return field;
  }
  return null;
}
