// The manager's FAQ editor (/manager/faq.html): signs in as the board does (sign-in.mjs),
// then lists the live entries (the draft) with a search, creates and edits entries, shows
// what differs from the latest published edition, publishes the next edition after a
// confirmation naming it, and lists the editions with their Markdown and Excel exports.
// Everything is read again after each save or publication; nothing is polled.
//
// `window.madoguchiFaq.state()` tells the end-to-end tests what the page shows.

import { categoryText, readCategories } from './alerts.mjs';
import { otherLanguage, storedLanguage, STORAGE_KEY } from './i18n.mjs';
import { createSession } from './session.mjs';
import { createSignIn } from './sign-in.mjs';
import { ApiError, createFaqApi, SessionExpired } from './faq-api.mjs';
import { editionName, translate } from './faq-i18n.mjs';
import {
  changeMarks, checkNote, editionLinks, entryPayload, ENTRY_FIELDS, fieldOfError,
  formatDateTime, formFromEntry, LIST_LIMIT, pendingCount, validateEntry,
} from './faq-model.mjs';

/** How long typing in the search box may pause before the list is searched again. */
const SEARCH_PAUSE_MS = 250;

const session = createSession();
const api = createFaqApi();
const page = {
  lang: storedLanguage(),
  categories: [],
  entries: [],
  /** Completed list loads, so a test can wait for the list after a change. */
  listLoads: 0,
  editions: [],
  next: null,
  /** null, {mode: 'new'} or {mode: 'edit', id}. */
  form: null,
  saving: false,
  publishing: false,
  lastSaved: null,
  lastPublished: null,
};
let listSequence = 0;
let editionSequence = 0;
let searchTimer = null;
/** Where the focus goes back to when the form closes. */
let formOpener = null;

const $ = (id) => document.getElementById(id);
const t = (key, params) => translate(page.lang, key, params);
const gate = createSignIn({
  session,
  t,
  view: { name: 'editor', id: 'editor-view' },
  onSignedIn: () => {
    loadCategories();
    loadEntries();
    loadEditions();
  },
  onSignedOut: () => closeForm(false),
});

// ---- views ----

function applyLanguage() {
  document.documentElement.lang = page.lang;
  document.title = `madoguchi ${t('app.title')}`;
  for (const element of document.querySelectorAll('[data-i18n]')) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of document.querySelectorAll('[data-i18n-label]')) {
    element.setAttribute('aria-label', t(element.dataset.i18nLabel));
  }
  $('lang-toggle').textContent = t('lang.toggle');
  gate.render();
  renderCategories();
  renderFormHeading();
  renderEntries();
  renderStatus();
  renderEditions();
}

function announce(text) {
  const region = $('live-polite');
  region.textContent = '';
  // A fresh node after a pause, so the same words twice are announced twice.
  setTimeout(() => { region.textContent = text; }, 50);
}

// ---- session ----

function start() {
  applyLanguage();
  gate.start();
}

/** True when `failure` ended the session (the sign-in form is back). */
function sessionGone(failure) {
  if (!(failure instanceof SessionExpired)) return false;
  gate.expired();
  return true;
}

// ---- loading ----

async function loadCategories() {
  try {
    page.categories = readCategories(await session.categories());
  } catch {
    page.categories = [];
  }
  renderCategories();
  renderEntries();
}

async function loadEntries() {
  const sequence = ++listSequence;
  const error = $('entries-error');
  try {
    const entries = await api.draft($('faq-search').value, $('show-inactive').checked);
    // An answer to an older search must not replace a newer one.
    if (sequence !== listSequence) return;
    page.entries = entries;
    page.listLoads += 1;
    error.hidden = true;
  } catch (failure) {
    if (sequence !== listSequence || sessionGone(failure)) return;
    error.textContent = t('entries.error');
    error.hidden = false;
  }
  renderEntries();
}

async function loadEditions() {
  const sequence = ++editionSequence;
  const error = $('editions-error');
  try {
    const { editions, next } = await api.editions();
    if (sequence !== editionSequence) return;
    page.editions = editions;
    page.next = next;
    error.hidden = true;
  } catch (failure) {
    if (sequence !== editionSequence || sessionGone(failure)) return;
    error.textContent = t('editions.error');
    error.hidden = false;
  }
  renderStatus();
  renderEditions();
  renderEntries();
}

function searchSoon() {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(loadEntries, SEARCH_PAUSE_MS);
}

// ---- the entry form ----

function openForm(entry, opener) {
  page.form = entry ? { mode: 'edit', id: entry.id } : { mode: 'new' };
  formOpener = opener ?? null;
  const values = formFromEntry(entry);
  $('entry-question').value = values.question;
  $('entry-answer').value = values.answer;
  renderCategories();
  const select = $('entry-category');
  if (values.category && ![...select.options].some((o) => o.value === values.category)) {
    // A code no longer configured stays as it is unless the manager picks another.
    const kept = document.createElement('option');
    kept.value = values.category;
    kept.textContent = values.category;
    select.append(kept);
  }
  select.value = values.category;
  $('entry-active').checked = values.active;
  showErrors({});
  renderFormHeading();
  $('entry-panel').hidden = false;
  $('entry-question').focus();
  $('entry-panel').scrollIntoView({ block: 'nearest' });
}

function closeForm(restoreFocus = true) {
  page.form = null;
  $('entry-panel').hidden = true;
  if (restoreFocus && formOpener && document.contains(formOpener)) formOpener.focus();
  formOpener = null;
}

function renderFormHeading() {
  const heading = $('entry-heading');
  if (!page.form) return;
  heading.textContent = page.form.mode === 'edit'
    ? t('entry.heading.edit', { id: page.form.id })
    : t('entry.heading.new');
}

function formValues() {
  return {
    question: $('entry-question').value,
    answer: $('entry-answer').value,
    category: $('entry-category').value,
    active: $('entry-active').checked,
  };
}

/** Shows `errors` ({field: text}) next to their fields; `form` for the form as a whole. */
function showErrors(errors, form = null) {
  for (const field of ENTRY_FIELDS) {
    const message = $(`entry-${field}-error`);
    const input = $(`entry-${field}`);
    message.hidden = !errors[field];
    message.textContent = errors[field] ?? '';
    if (errors[field]) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }
  $('entry-error').hidden = !form;
  $('entry-error').textContent = form ?? '';
  const first = ENTRY_FIELDS.find((field) => errors[field]);
  if (first) $(`entry-${first}`).focus();
}

async function saveEntry(event) {
  event.preventDefault();
  if (!page.form || page.saving) return;
  const values = formValues();
  const problems = validateEntry(values);
  if (Object.keys(problems).length > 0) {
    showErrors(Object.fromEntries(Object.entries(problems).map(([f, key]) => [f, t(key)])));
    return;
  }
  showErrors({});
  const payload = entryPayload(values);
  const editing = page.form.mode === 'edit' ? page.form.id : null;
  page.saving = true;
  const save = $('entry-save');
  save.disabled = true;
  save.textContent = t('entry.saving');
  try {
    const saved = editing === null ? await api.create(payload) : await api.update(editing, payload);
    page.lastSaved = saved ? saved.id : editing;
    announce(t('entry.saved', { id: page.lastSaved }));
    closeForm(false);
    await Promise.all([loadEntries(), loadEditions()]);
    // Back to the saved entry's row when it is listed, else to the list's button.
    const button = document.querySelector(`#entry-rows button[data-id="${page.lastSaved}"]`);
    (button ?? $('new-entry')).focus();
  } catch (failure) {
    if (sessionGone(failure)) return;
    refused(failure);
  } finally {
    page.saving = false;
    save.disabled = false;
    save.textContent = t('entry.save');
  }
}

/** A refused save: a 422 next to the field it names, anything else for the form. */
function refused(failure) {
  if (failure instanceof ApiError && failure.status === 422) {
    const message = t('entry.error.server', { message: failure.serverMessage });
    const field = fieldOfError(failure.field, failure.serverMessage);
    if (field) showErrors({ [field]: message });
    else showErrors({}, message);
  } else if (failure instanceof ApiError && failure.status === 404) {
    showErrors({}, t('entry.error.not_found'));
  } else {
    showErrors({}, t('entry.error.failed'));
  }
}

// ---- publishing ----

function askToPublish(event) {
  event.preventDefault();
  const next = page.next;
  if (!next || next.entries === 0 || page.publishing) return;
  const { error } = checkNote($('publish-note').value);
  const message = $('publish-error');
  message.hidden = !error;
  message.textContent = error ? t(error) : '';
  if (error) {
    $('publish-note').setAttribute('aria-invalid', 'true');
    $('publish-note').focus();
    return;
  }
  $('publish-note').removeAttribute('aria-invalid');
  renderDialog();
  $('publish-dialog').showModal();
  $('publish-confirm').focus();
}

function renderDialog() {
  const next = page.next;
  if (!next) return;
  const label = editionName(page.lang, next);
  const { added, changed, removed } = next.changes;
  $('publish-dialog-heading').textContent = t('publish.dialog.heading', { label });
  $('publish-dialog-body').textContent = t('publish.dialog.body', { label, entries: next.entries });
  $('publish-dialog-changes').textContent = pendingCount(next) > 0
    ? t('publish.dialog.changes', { added: added.length, changed: changed.length, removed: removed.length })
    : t('publish.dialog.no_changes');
  const { note } = checkNote($('publish-note').value);
  $('publish-dialog-note').hidden = !note;
  $('publish-dialog-note').textContent = note ? t('publish.dialog.note', { note }) : '';
  $('publish-confirm').textContent = page.publishing
    ? t('publish.publishing')
    : t('publish.confirm', { label });
}

async function publish() {
  if (page.publishing) return;
  const { note } = checkNote($('publish-note').value);
  page.publishing = true;
  $('publish-confirm').disabled = true;
  renderDialog();
  const message = $('publish-error');
  try {
    const edition = await api.publish(note);
    page.lastPublished = edition ? edition.number : null;
    $('publish-note').value = '';
    message.hidden = true;
    $('publish-dialog').close();
    announce(t('publish.done', { label: editionName(page.lang, edition) }));
  } catch (failure) {
    $('publish-dialog').close();
    if (sessionGone(failure)) return;
    const key = failure instanceof ApiError && failure.status === 409 ? 'publish.error.nothing'
      : failure instanceof ApiError && failure.status === 422 ? 'publish.error.note_too_long'
        : 'publish.error.failed';
    message.textContent = t(key);
    message.hidden = false;
  } finally {
    page.publishing = false;
    $('publish-confirm').disabled = false;
  }
  await Promise.all([loadEditions(), loadEntries()]);
}

// ---- rendering ----

function renderCategories() {
  const select = $('entry-category');
  const chosen = select.value;
  const none = document.createElement('option');
  none.value = '';
  none.textContent = t('entries.no_category');
  select.replaceChildren(none, ...page.categories.map((category) => {
    const option = document.createElement('option');
    option.value = category.code;
    option.textContent = categoryText(category.code, page.categories);
    return option;
  }));
  select.value = chosen;
}

function renderEntries() {
  const marks = changeMarks(page.next);
  $('entry-rows').replaceChildren(...page.entries.map((entry) => {
    const row = document.createElement('tr');
    row.dataset.id = String(entry.id);
    row.dataset.active = String(entry.active);
    const mark = marks.get(entry.id) ?? null;
    if (mark) row.dataset.change = mark;
    const question = document.createElement('th');
    question.scope = 'row';
    question.className = 'question';
    question.textContent = entry.question;
    question.title = entry.question;
    const state = badge(entry.active ? t('entries.active') : t('entries.inactive_state'),
      entry.active ? 'active' : 'inactive');
    const change = mark ? badge(t(`mark.${mark}`), mark) : '';
    const edit = document.createElement('button');
    edit.type = 'button';
    edit.dataset.id = String(entry.id);
    edit.textContent = t('entries.edit');
    edit.setAttribute('aria-label', t('entries.edit_label', { id: entry.id }));
    row.append(
      cell(String(entry.id), 'num mono'),
      question,
      cell(entry.category ? categoryText(entry.category, page.categories) : '—', 'category'),
      cell(state),
      cell(formatDateTime(entry.updatedAt), 'mono nowrap'),
      cell(change, 'change'),
      cell(edit),
    );
    return row;
  }));
  $('entries-none').hidden = page.listLoads === 0 || page.entries.length > 0;
  const summary = page.entries.length >= LIST_LIMIT
    ? t('entries.limited', { limit: LIST_LIMIT })
    : (page.listLoads > 0 ? t('entries.count', { count: page.entries.length }) : '');
  $('entries-summary').textContent = summary;
}

function cell(content, className = '') {
  const element = document.createElement('td');
  if (className) element.className = className;
  if (typeof content === 'string') element.textContent = content;
  else element.append(content);
  return element;
}

function badge(text, kind) {
  const element = document.createElement('span');
  element.className = 'badge';
  element.dataset.kind = kind;
  element.textContent = text;
  return element;
}

function renderStatus() {
  const latest = page.editions.at(-1) ?? null;
  const next = page.next;
  $('status-latest').textContent = latest
    ? t('status.latest', {
      label: editionName(page.lang, latest),
      at: formatDateTime(latest.publishedAt),
      by: latest.publishedBy,
    })
    : t('status.none');
  const pending = $('status-pending');
  const count = pendingCount(next);
  let text = '';
  if (next && latest) {
    const { added, changed, removed } = next.changes;
    text = count > 0
      ? t('status.pending', { added: added.length, changed: changed.length, removed: removed.length })
      : t('status.clean');
  } else if (next) {
    text = next.entries > 0
      ? t('status.first', { entries: next.entries, label: editionName(page.lang, next) })
      : t('status.empty');
  }
  pending.textContent = text;
  pending.dataset.pending = String(Boolean(next) && next.entries > 0 && (count > 0 || !latest));
  const items = [];
  if (next && latest) {
    for (const kind of ['added', 'changed', 'removed']) {
      for (const entry of next.changes[kind]) {
        const item = document.createElement('li');
        item.dataset.kind = kind;
        item.dataset.id = String(entry.id);
        item.textContent = t('change.item', { kind: t(`change.${kind}`), id: entry.id, question: entry.question });
        items.push(item);
      }
    }
  }
  $('status-changes').replaceChildren(...items);
  const button = $('publish');
  button.textContent = next
    ? t('publish.button', { label: editionName(page.lang, next) })
    : t('publish.button', { label: '' });
  button.disabled = !next || next.entries === 0 || page.publishing;
  if ($('publish-dialog').open) renderDialog();
}

function renderEditions() {
  const newestFirst = [...page.editions].reverse();
  $('edition-rows').replaceChildren(...newestFirst.map((edition) => {
    const row = document.createElement('tr');
    row.dataset.number = String(edition.number);
    const name = document.createElement('th');
    name.scope = 'row';
    const label = document.createElement('span');
    label.className = 'edition-label';
    label.textContent = edition.label;
    name.append(label);
    if (edition.note) {
      const note = document.createElement('span');
      note.className = 'edition-note hint';
      note.textContent = edition.note;
      name.append(note);
    }
    const links = editionLinks(edition.number);
    const downloads = document.createElement('span');
    downloads.className = 'downloads';
    for (const format of ['md', 'xlsx']) {
      const anchor = document.createElement('a');
      anchor.href = links[format];
      anchor.download = `faq-edition-${edition.number}.${format}`;
      anchor.dataset.format = format;
      anchor.textContent = t(`editions.${format}`);
      anchor.setAttribute('aria-label', t(`editions.${format}_label`, { label: editionName(page.lang, edition) }));
      downloads.append(anchor);
    }
    row.append(
      cell(String(edition.number), 'num mono'),
      name,
      cell(formatDateTime(edition.publishedAt), 'mono nowrap'),
      cell(edition.publishedBy, 'nowrap'),
      cell(String(edition.entries), 'num mono'),
      cell(downloads),
    );
    return row;
  }));
  $('editions-none').hidden = page.editions.length > 0;
}

// ---- wiring ----

function wire() {
  gate.wire();
  $('lang-toggle').addEventListener('click', () => {
    page.lang = otherLanguage(page.lang);
    try {
      window.localStorage.setItem(STORAGE_KEY, page.lang);
    } catch {
      // Not remembered; the toggle still works for this page.
    }
    applyLanguage();
  });
  $('search-form').addEventListener('submit', (event) => {
    event.preventDefault();
    clearTimeout(searchTimer);
    loadEntries();
  });
  $('faq-search').addEventListener('input', searchSoon);
  $('show-inactive').addEventListener('change', loadEntries);
  $('new-entry').addEventListener('click', (event) => openForm(null, event.currentTarget));
  $('entry-rows').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-id]');
    if (!button) return;
    const entry = page.entries.find((e) => String(e.id) === button.dataset.id);
    if (entry) openForm(entry, button);
  });
  $('entry-form').addEventListener('submit', saveEntry);
  $('entry-cancel').addEventListener('click', () => closeForm());
  $('entry-form').addEventListener('keydown', (event) => {
    if (event.key === 'Escape') closeForm();
  });
  $('publish-form').addEventListener('submit', askToPublish);
  $('publish-confirm').addEventListener('click', publish);
  $('publish-cancel').addEventListener('click', () => $('publish-dialog').close());
  $('publish-dialog').addEventListener('close', () => $('publish').focus());
}

window.madoguchiFaq = {
  state: () => ({
    view: gate.view,
    user: gate.user,
    lang: page.lang,
    listLoads: page.listLoads,
    entries: page.entries.map((e) => ({ id: e.id, question: e.question, active: e.active })),
    editions: page.editions.map((e) => ({ number: e.number, label: e.label })),
    next: page.next
      ? { number: page.next.number, label: page.next.label, entries: page.next.entries, pending: pendingCount(page.next) }
      : null,
    marks: Object.fromEntries(changeMarks(page.next)),
    form: page.form ? page.form.mode : 'closed',
    dialog: $('publish-dialog').open,
    saving: page.saving,
    publishing: page.publishing,
    lastSaved: page.lastSaved,
    lastPublished: page.lastPublished,
  }),
};

wire();
start();
