// The counter page's shell: sign-in, the quick-entry form, today's cases and hours. The
// rules live in entry.mjs (what the form needs and sends) and today.mjs (what the list
// shows); the HTTP calls in api.mjs. Notes are personal data: nothing here logs them.
//
// For the browser test: window.madoguchi = { state() }.

import { createCounterApi, SessionExpired, ApiError } from './api.mjs';
import {
  validateEntry, entryPayload, formFromCase, blankForm, recallSeat, rememberSeat, formFieldOf,
  showsFee, feeRequired, charCount, KINDS, SEAT_MAX_CHARS, NOTE_MAX_CHARS,
} from './entry.mjs';
import {
  kindCounts, hoursMessage, clockTime, canCorrect, feeKey, newestFirst, localDate,
} from './today.mjs';
import { translate, initialLanguage, otherLanguage, STORAGE_KEY } from './i18n.mjs';

const $ = (id) => document.getElementById(id);
const api = createCounterApi();
const storage = safeStorage();

const ui = {
  lang: initialLanguage(storage?.getItem(STORAGE_KEY)),
  session: null,
  view: 'loading',
  signingIn: false,
  signInError: null,
  signInNotice: null,
  hours: null,
  today: { status: 'idle', total: 0, byKind: [], cases: [] },
  editing: null,
  errors: {},
  formError: null,
  saving: false,
  status: null,
  lastSaved: null,
};

window.madoguchi = {
  state: () => ({
    view: ui.view,
    login: ui.session?.login ?? null,
    saving: ui.saving,
    errors: { ...ui.errors },
    formError: ui.formError,
    editing: ui.editing,
    lastSaved: ui.lastSaved,
    today: { status: ui.today.status, total: ui.today.total, cases: ui.today.cases.length },
    hours: ui.hours,
    lang: ui.lang,
  }),
};

function t(key, params) {
  return translate(ui.lang, key, params);
}

function safeStorage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

// ---- rendering ----

function applyTranslations() {
  document.documentElement.lang = ui.lang;
  for (const element of document.querySelectorAll('[data-i18n]')) {
    element.textContent = t(element.dataset.i18n);
  }
  $('lang-toggle').textContent = t('lang.toggle');
}

function render() {
  $('loading').hidden = ui.view !== 'loading';
  $('sign-in-view').hidden = ui.view !== 'signed_out';
  $('counter-view').hidden = ui.view !== 'signed_in';
  $('sign-out').hidden = ui.view !== 'signed_in';
  $('who').hidden = ui.view !== 'signed_in';
  $('who').textContent = ui.session ? t('who', { login: ui.session.login }) : '';
  renderSignIn();
  renderHours();
  renderEntry();
  renderToday();
}

function renderSignIn() {
  $('sign-in-error').hidden = !ui.signInError;
  $('sign-in-error').textContent = ui.signInError ? t(ui.signInError) : '';
  $('sign-in-notice').hidden = !ui.signInNotice;
  $('sign-in-notice').textContent = ui.signInNotice ? t(ui.signInNotice) : '';
  $('sign-in-submit').disabled = ui.signingIn;
  $('sign-in-submit').textContent = t(ui.signingIn ? 'signin.submitting' : 'signin.submit');
}

function renderHours() {
  $('hours').hidden = ui.view !== 'signed_in';
  const message = hoursMessage(ui.hours);
  $('hours-text').textContent = t(message.key, message.params);
  let open = 'unknown';
  if (ui.hours?.openNow === true) open = 'now';
  else if (ui.hours && (!ui.hours.open || ui.hours.openNow === false)) open = 'closed';
  $('hours-text').dataset.open = open;
  $('today-date').textContent = todayDate();
}

function renderEntry() {
  const form = readForm();
  $('entry-heading').textContent = t(ui.editing ? 'entry.heading_correct' : 'entry.heading');
  $('entry-save').textContent = t(ui.saving ? 'entry.saving'
    : ui.editing ? 'entry.save_correction' : 'entry.save');
  $('entry-save').disabled = ui.saving;
  $('entry-cancel').hidden = !ui.editing;
  $('fee-field').hidden = !showsFee(form.kind);
  $('fee-req').hidden = !feeRequired(form);
  $('note-count').textContent = t('entry.note_count', {
    n: charCount(form.note), max: NOTE_MAX_CHARS,
  });
  const fields = {
    kind: ['kind-field', 'kind-error'],
    outcome: ['outcome-field', 'outcome-error'],
    fee: ['fee-field', 'fee-error'],
    seat: ['seat', 'seat-error'],
    note: ['note', 'note-error'],
  };
  for (const [field, [control, message]] of Object.entries(fields)) {
    const error = ui.errors[field];
    $(control).setAttribute('aria-invalid', error ? 'true' : 'false');
    $(message).hidden = !error;
    $(message).textContent = error ? errorText(error) : '';
  }
  $('entry-error').hidden = !ui.formError;
  $('entry-error').textContent = ui.formError ? errorText(ui.formError) : '';
  $('entry-status').textContent = ui.status ? t(ui.status.key, ui.status.params) : '';
}

/** An error is a message key, or {server: text} for the server's own words. */
function errorText(error) {
  if (typeof error === 'object' && error !== null) {
    return t('entry.error.server', { message: error.server });
  }
  return t(error, { max: error === 'entry.error.seat_too_long' ? SEAT_MAX_CHARS : NOTE_MAX_CHARS });
}

function renderToday() {
  const { counts, total } = kindCounts(ui.today.byKind, ui.today.cases);
  const list = $('today-counts');
  list.replaceChildren(...counts.map(({ kind, count }) => countItem(t(`kind.${kind}`), count)));
  const totalItem = countItem(t('today.total'), total);
  totalItem.className = 'total';
  list.append(totalItem);

  const status = $('today-status');
  const empty = ui.today.status === 'ready' && ui.today.cases.length === 0;
  const message = ui.today.status === 'loading' && ui.today.cases.length === 0 ? 'today.loading'
    : ui.today.status === 'error' ? 'today.error' : empty ? 'today.empty' : null;
  status.hidden = !message;
  status.textContent = message ? t(message) : '';
  $('today-table').hidden = ui.today.cases.length === 0;
  const zone = ui.hours?.timeZone;
  $('today-rows').replaceChildren(...newestFirst(ui.today.cases).map((item) => caseRow(item, zone)));
}

function countItem(label, count) {
  const item = document.createElement('li');
  const name = document.createElement('span');
  name.textContent = label;
  const number = document.createElement('b');
  number.textContent = t('today.count', { n: count });
  item.append(name, number);
  return item;
}

function caseRow(item, zone) {
  const row = document.createElement('tr');
  row.dataset.id = item.id;
  row.dataset.editing = String(ui.editing === item.id);
  const time = clockTime(item.at, zone);
  const cell = (text) => {
    const td = document.createElement('td');
    td.textContent = text;
    row.append(td);
    return td;
  };
  const timeCell = cell(time);
  timeCell.className = 'mono';
  if (item.outsideHours) {
    const late = document.createElement('span');
    late.className = 'late';
    late.textContent = t('today.outside');
    late.title = t('today.outside_label');
    late.setAttribute('aria-label', t('today.outside_label'));
    timeCell.append(late);
  }
  cell(t(`kind.${item.kind}`));
  cell(t(`outcome.${item.outcome}`));
  cell(item.seat);
  const fee = feeKey(item);
  const feeCell = cell(fee ? t(fee) : '');
  if (fee === 'fee.not_confirmed') feeCell.className = 'fee-no';
  cell(item.staff ?? '');
  const actions = cell('');
  if (canCorrect(item, ui.session, todayDate(), zone)) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'small quiet';
    button.textContent = t('today.correct');
    button.setAttribute('aria-label', t('today.correct_label', { time, kind: t(`kind.${item.kind}`) }));
    button.addEventListener('click', () => startCorrection(item));
    actions.append(button);
  }
  return row;
}

/** The counter's date of today: the server's (hours answer), else the browser's. */
function todayDate() {
  return ui.hours?.date ?? localDate(new Date(), undefined);
}

// ---- the form ----

function readForm() {
  const checked = (name) => document.querySelector(`input[name="${name}"]:checked`)?.value ?? '';
  return {
    kind: checked('kind'),
    outcome: checked('outcome'),
    seat: $('seat').value,
    feeConfirmed: $('fee').checked,
    note: $('note').value,
  };
}

function fillForm(form) {
  for (const name of ['kind', 'outcome']) {
    for (const input of document.querySelectorAll(`input[name="${name}"]`)) {
      input.checked = input.value === form[name];
    }
  }
  $('seat').value = form.seat ?? '';
  $('fee').checked = Boolean(form.feeConfirmed);
  $('note').value = form.note ?? '';
}

function focusFirstError() {
  const order = [
    ['kind', () => firstRadio('kind')],
    ['outcome', () => firstRadio('outcome')],
    ['fee', () => $('fee')],
    ['seat', () => $('seat')],
    ['note', () => $('note')],
  ];
  const found = order.find(([field]) => ui.errors[field]);
  found?.[1]()?.focus();
}

function firstRadio(name) {
  return document.querySelector(`input[name="${name}"]:checked`)
    ?? document.querySelector(`input[name="${name}"]`);
}

async function submitEntry(event) {
  event.preventDefault();
  if (ui.saving) return;
  const form = readForm();
  ui.errors = validateEntry(form);
  ui.status = null;
  if (Object.keys(ui.errors).length > 0) {
    ui.formError = 'entry.error.fix';
    render();
    focusFirstError();
    return;
  }
  ui.formError = null;
  ui.saving = true;
  render();
  const correcting = ui.editing;
  try {
    const payload = entryPayload(form);
    const saved = correcting ? await api.correct(correcting, payload) : await api.record(payload);
    rememberSeat(storage, form.seat);
    ui.lastSaved = saved;
    ui.editing = null;
    ui.status = correcting ? { key: 'entry.corrected', params: {} }
      : { key: saved?.outsideHours ? 'entry.saved_outside' : 'entry.saved', params: { kind: t(`kind.${form.kind}`) } };
    fillForm(blankForm(form.seat));
    loadToday();
    firstRadio('kind')?.focus();
  } catch (error) {
    if (error instanceof SessionExpired) {
      expire();
      return;
    }
    if (error instanceof ApiError && error.status === 422 && formFieldOf(error.field)) {
      ui.errors = { [formFieldOf(error.field)]: { server: error.serverMessage } };
      ui.formError = 'entry.error.fix';
    } else if (error instanceof ApiError) {
      ui.formError = { server: error.serverMessage || `HTTP ${error.status}` };
    } else {
      ui.formError = 'entry.error.network';
    }
  } finally {
    ui.saving = false;
    render();
    if (Object.keys(ui.errors).length > 0) focusFirstError();
  }
}

function startCorrection(item) {
  ui.editing = item.id;
  ui.errors = {};
  ui.formError = null;
  ui.status = null;
  fillForm(formFromCase(item));
  render();
  firstRadio('kind')?.focus();
}

function cancelCorrection() {
  ui.editing = null;
  ui.errors = {};
  ui.formError = null;
  fillForm(blankForm(recallSeat(storage) || readForm().seat));
  render();
  firstRadio('kind')?.focus();
}

/** A change in the form clears that field's error and shows or hides the fee question. */
function formChanged(event) {
  const field = { kind: 'kind', outcome: 'outcome', fee: 'fee', seat: 'seat', note: 'note' }[event.target.name];
  if (field && ui.errors[field]) delete ui.errors[field];
  // A new kind or outcome changes whether the fee question applies.
  if (field === 'kind' || field === 'outcome') delete ui.errors.fee;
  if (Object.keys(ui.errors).length === 0) ui.formError = null;
  renderEntry();
}

// ---- today ----

async function loadToday() {
  ui.today = { ...ui.today, status: 'loading' };
  renderToday();
  try {
    const [hours, page] = await guarded(async () => {
      const hoursNow = await api.hours();
      const date = hoursNow?.date ?? localDate(new Date(), undefined);
      return [hoursNow, await api.casesOn(date)];
    }) ?? [];
    if (!page) return;
    ui.hours = hours;
    ui.today = { status: 'ready', total: page.total, byKind: page.byKind, cases: page.cases };
  } catch {
    ui.today = { ...ui.today, status: 'error' };
  }
  render();
}

// ---- session ----

async function guarded(call) {
  try {
    return await call();
  } catch (error) {
    if (error instanceof SessionExpired) {
      expire();
      return undefined;
    }
    throw error;
  }
}

function showSignIn(errorKey, noticeKey = null) {
  ui.view = 'signed_out';
  ui.session = null;
  ui.signInError = errorKey;
  ui.signInNotice = noticeKey;
  render();
  $('sign-in-login').focus();
}

function expire() {
  if (ui.view !== 'signed_in') return;
  showSignIn(null, 'signin.expired');
}

function start(session) {
  ui.session = session;
  ui.view = 'signed_in';
  ui.signInError = null;
  ui.signInNotice = null;
  ui.errors = {};
  ui.formError = null;
  ui.status = null;
  ui.editing = null;
  ui.today = { status: 'idle', total: 0, byKind: [], cases: [] };
  fillForm(blankForm(recallSeat(storage)));
  render();
  firstRadio('kind')?.focus();
  loadToday();
}

async function signIn(event) {
  event.preventDefault();
  const login = $('sign-in-login').value.trim();
  const password = $('sign-in-password').value;
  if (!login || !password) {
    ui.signInError = 'signin.error.required';
    render();
    return;
  }
  ui.signingIn = true;
  ui.signInError = null;
  render();
  try {
    const session = await api.signIn(login, password);
    $('sign-in-password').value = '';
    ui.signingIn = false;
    start(session);
  } catch (error) {
    ui.signingIn = false;
    if (error instanceof ApiError && error.status === 401) ui.signInError = 'signin.error.bad_credentials';
    else if (error instanceof ApiError && error.status === 429) ui.signInError = 'signin.error.rate_limited';
    else ui.signInError = 'signin.error.network';
    render();
    $('sign-in-password').focus();
  }
}

async function signOut() {
  try {
    await api.signOut();
  } catch {
    // The cookie expires on its own.
  }
  showSignIn(null, 'signin.signed_out');
}

function toggleLanguage() {
  ui.lang = otherLanguage(ui.lang);
  try {
    storage?.setItem(STORAGE_KEY, ui.lang);
  } catch {
    // Not remembered: Japanese again next time.
  }
  applyTranslations();
  render();
}

async function boot() {
  applyTranslations();
  $('seat').setAttribute('maxlength', String(SEAT_MAX_CHARS * 2));
  $('sign-in-form').addEventListener('submit', signIn);
  $('entry-form').addEventListener('submit', submitEntry);
  $('entry-form').addEventListener('change', formChanged);
  $('entry-form').addEventListener('input', formChanged);
  $('entry-cancel').addEventListener('click', cancelCorrection);
  $('today-refresh').addEventListener('click', loadToday);
  $('sign-out').addEventListener('click', signOut);
  $('lang-toggle').addEventListener('click', toggleLanguage);
  try {
    const session = await api.currentSession();
    if (session) start(session);
    else showSignIn(null);
  } catch {
    showSignIn('signin.error.network');
  }
}

// KINDS is the order of the buttons in index.html; a mismatch is a bug worth seeing.
if (document.querySelectorAll('input[name="kind"]').length !== KINDS.length) {
  console.warn('the kind buttons and KINDS differ');
}
boot();
