// The FAQ editor's rules, without the page: reading the API's answers, checking an entry
// before it is sent (the server checks again; this spares a round trip and names the
// field), the request bodies, which entries differ from the latest published edition, and
// the download addresses of an edition. Lengths are counted as the server counts them.

/** The store's limits, in characters (crates/store faq.rs, faq_edition.rs). */
export const QUESTION_MAX_CHARS = 1000;
export const ANSWER_MAX_CHARS = 10000;
export const NOTE_MAX_CHARS = 1000;
/** The most entries one search returns (the API's limit). */
export const LIST_LIMIT = 100;

/** The fields of the entry form, in the order errors are looked at. */
export const ENTRY_FIELDS = ['question', 'answer', 'category', 'active'];

/** Length as the server counts it: characters (code points), not UTF-16 units. */
export function charCount(text) {
  return [...String(text ?? '')].length;
}

const text = (value) => (typeof value === 'string' ? value : '');
const optionalText = (value) => (typeof value === 'string' && value !== '' ? value : null);

/** One live entry as the page uses it, or null when `data` is not one. */
export function readEntry(data) {
  if (!data || typeof data !== 'object' || !Number.isInteger(data.id)) return null;
  return {
    id: data.id,
    question: text(data.question),
    answer: text(data.answer),
    category: optionalText(data.category),
    active: data.active !== false,
    uses: Number.isFinite(data.uses) ? data.uses : 0,
    updatedAt: optionalText(data.updated_at),
  };
}

/** The entries of a search answer (`{entries: […]}`). */
export function readEntries(data) {
  return Array.isArray(data?.entries) ? data.entries.map(readEntry).filter(Boolean) : [];
}

/** One published edition, or null. */
export function readEdition(data) {
  if (!data || typeof data !== 'object' || !Number.isInteger(data.number)) return null;
  return {
    number: data.number,
    label: text(data.label) || editionLabel(data.number),
    publishedAt: optionalText(data.published_at),
    publishedBy: text(data.published_by),
    note: optionalText(data.note),
    entries: Number.isFinite(data.entries) ? data.entries : 0,
  };
}

function readChangeList(list) {
  if (!Array.isArray(list)) return [];
  return list
    .filter((e) => e && Number.isInteger(e.faq_id))
    .map((e) => ({ id: e.faq_id, question: text(e.question), category: optionalText(e.category) }));
}

/**
 * `GET /api/v1/faq/editions?next=true`: {editions (oldest first), next}, where `next` is
 * {number, label, entries, changes: {added, changed, removed}} or null.
 */
export function readEditionList(data) {
  const editions = Array.isArray(data?.editions)
    ? data.editions.map(readEdition).filter(Boolean).sort((a, b) => a.number - b.number)
    : [];
  const raw = data?.next;
  let next = null;
  if (raw && typeof raw === 'object' && Number.isInteger(raw.number)) {
    next = {
      number: raw.number,
      label: text(raw.label) || editionLabel(raw.number),
      entries: Number.isFinite(raw.entries) ? raw.entries : 0,
      changes: {
        added: readChangeList(raw.changes?.added),
        changed: readChangeList(raw.changes?.changed),
        removed: readChangeList(raw.changes?.removed),
      },
    };
  }
  return { editions, next };
}

/** The store's name of edition `number`: 「初版」, then 「第N版」. */
export function editionLabel(number) {
  return number <= 1 ? '初版' : `第${number}版`;
}

/** How many changes publishing would bring (0 without a preview). */
export function pendingCount(next) {
  if (!next) return 0;
  const { added, changed, removed } = next.changes;
  return added.length + changed.length + removed.length;
}

/** entry id → 'added' | 'changed' | 'removed': how it differs from the latest edition. */
export function changeMarks(next) {
  const marks = new Map();
  if (!next) return marks;
  for (const kind of ['added', 'changed', 'removed']) {
    for (const entry of next.changes[kind]) marks.set(entry.id, kind);
  }
  return marks;
}

/**
 * Checks the form's texts ({question, answer, …}). Returns {field: messageKey} per problem;
 * empty when the form can be sent. The category is the server's to check: the form offers
 * only the configured ones, and the configuration may change under an open page.
 */
export function validateEntry(form) {
  const errors = {};
  const question = String(form.question ?? '').trim();
  const answer = String(form.answer ?? '').trim();
  if (!question) errors.question = 'entry.error.question_required';
  else if (charCount(question) > QUESTION_MAX_CHARS) errors.question = 'entry.error.question_too_long';
  if (!answer) errors.answer = 'entry.error.answer_required';
  else if (charCount(answer) > ANSWER_MAX_CHARS) errors.answer = 'entry.error.answer_too_long';
  return errors;
}

/** The body of `POST /api/v1/faq` and `PUT /api/v1/faq/{id}`: trimmed, no category as null. */
export function entryPayload(form) {
  return {
    question: String(form.question ?? '').trim(),
    answer: String(form.answer ?? '').trim(),
    category: String(form.category ?? '').trim() || null,
    active: form.active !== false,
  };
}

/** The form's values for a stored entry (an empty form for null). */
export function formFromEntry(entry) {
  if (!entry) return { question: '', answer: '', category: '', active: true };
  return {
    question: entry.question,
    answer: entry.answer,
    category: entry.category ?? '',
    active: entry.active,
  };
}

/**
 * The form field a refusal names: the 422's `field` when it is one of the form's, else
 * the field its message starts with ("answer: is empty"), else null (shown for the form).
 */
export function fieldOfError(field, message) {
  if (ENTRY_FIELDS.includes(field)) return field;
  const named = /^(\w+):/.exec(String(message ?? ''));
  return named && ENTRY_FIELDS.includes(named[1]) ? named[1] : null;
}

/** The publication note to send: trimmed, blank as null; `error` names a problem. */
export function checkNote(note) {
  const trimmed = String(note ?? '').trim();
  if (charCount(trimmed) > NOTE_MAX_CHARS) return { note: null, error: 'publish.error.note_too_long' };
  return { note: trimmed || null, error: null };
}

/** The addresses of edition `number` as Markdown and as an Excel workbook. */
export function editionLinks(number) {
  if (!Number.isInteger(number) || number < 1) return null;
  const base = `/api/v1/faq/editions/${number}`;
  return { md: `${base}?format=md`, xlsx: `${base}?format=xlsx` };
}

/** The query string of the draft list: `q` (trimmed) and the inactive entries or not. */
export function draftQuery(q, withInactive) {
  const params = new URLSearchParams({ draft: 'true', limit: String(LIST_LIMIT) });
  const query = String(q ?? '').trim();
  if (query) params.set('q', query);
  if (withInactive) params.set('inactive', 'true');
  return params.toString();
}

/** "YYYY-MM-DD HH:MM" of an instant in the browser's time zone; "" when it is not one. */
export function formatDateTime(value) {
  const date = new Date(value ?? NaN);
  if (value === null || value === undefined || Number.isNaN(date.getTime())) return '';
  const two = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} `
    + `${two(date.getHours())}:${two(date.getMinutes())}`;
}

