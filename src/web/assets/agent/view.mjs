// Puts the console's state on the page. `render` is cheap and runs after every change and
// every second (timers); lists (categories, outcomes, FAQ results, the call history, devices)
// are rebuilt only when their data changes, so focus and selection inside them survive.
// Text from the server always goes in through textContent, never as HTML.

import { translate, stateLabel, languageBadge, languageName } from './i18n.mjs';
import {
  controls, callSeconds, recordingView, monitorView, languageView, languageFallbackView,
} from './console-state.mjs';
import { formatDuration, elapsedSeconds, formatClock } from './format.mjs';
import { OUTCOMES, NOTE_MAX_CHARS, noteLength } from './wrapup.mjs';

const $ = (id) => document.getElementById(id);

function show(id, visible) {
  $(id).hidden = !visible;
}

/** Static texts (data-i18n, data-i18n-placeholder) and the document language. */
export function applyTranslations(lang) {
  document.documentElement.lang = lang;
  for (const element of document.querySelectorAll('[data-i18n]')) {
    element.textContent = translate(lang, element.dataset.i18n);
  }
  for (const element of document.querySelectorAll('[data-i18n-placeholder]')) {
    element.placeholder = translate(lang, element.dataset.i18nPlaceholder);
  }
  const toggle = $('lang-toggle');
  toggle.textContent = translate(lang, 'lang.toggle');
  toggle.lang = lang === 'ja' ? 'en' : 'ja';
  document.title = `madoguchi ${translate(lang, 'app.title')}`;
}

/** Everything that follows the state: views, buttons, the call card, timers. */
export function render(model) {
  const { state, ui, lang, now } = model;
  const t = (key, params) => translate(lang, key, params);
  const can = controls(state);

  show('loading', state.session === 'unknown');
  show('sign-in-view', state.session === 'signed_out');
  show('taken-over-view', state.session === 'taken_over');
  show('console-view', state.session === 'signed_in');
  show('sign-out', state.session === 'signed_in');

  const signInError = $('sign-in-error');
  signInError.hidden = !ui.signInError;
  signInError.textContent = ui.signInError ? t(ui.signInError) : '';
  const notice = $('sign-in-notice');
  notice.hidden = !ui.signInNotice;
  notice.textContent = ui.signInNotice ? t(ui.signInNotice) : '';
  $('sign-in-submit').disabled = ui.signingIn;
  $('sign-in-submit').textContent = t(ui.signingIn ? 'signin.submitting' : 'signin.submit');

  const connection = $('connection');
  connection.hidden = state.session !== 'signed_in';
  connection.dataset.state = state.connection;
  connection.textContent = t(`connection.${state.connection}`);
  const who = $('who');
  who.hidden = !(state.session === 'signed_in' && state.login);
  who.textContent = state.login ? t('who', { login: state.login }) : '';

  const error = $('engine-error');
  error.hidden = !state.error;
  $('engine-error-text').textContent = state.error ? t('error.engine', { message: state.error.message }) : '';

  renderStatus(state, lang, now, can);
  renderCall(state, ui, lang, now, can);
  renderAudio(state, ui, lang);
  renderWrapup(state, ui, lang, can);
  renderFaqButtons(can);
}

function renderStatus(state, lang, now, can) {
  const badge = $('state-badge');
  badge.dataset.state = state.operator.state;
  badge.textContent = stateLabel(lang, state.operator.state, state.operator.reason);
  $('state-time').textContent = formatDuration(elapsedSeconds(state.operator.since, now) ?? 0);
  show('wrap-up-hint', state.operator.state === 'wrap_up');
  $('go-available').disabled = !can.available;
  $('go-paused').disabled = !can.pause;
  $('pause-reason').disabled = !can.pause;
}

function renderCall(state, ui, lang, now, can) {
  const t = (key, params) => translate(lang, key, params);
  const call = state.call;
  show('call-idle', !call);
  show('call-card', Boolean(call));
  const card = $('call-card');
  card.dataset.phase = call ? call.phase : 'none';
  if (!call) return;
  $('call-title').textContent = t(`call.title.${call.phase}`);
  $('call-caller').textContent = call.caller || t('call.caller_unknown');
  $('call-timer-label').textContent = t(call.phase === 'offered' ? 'call.wait' : 'call.talk');
  $('call-timer').textContent = formatDuration(callSeconds(call, now) ?? 0);
  $('call-menu').textContent = call.menuChoice || t('call.none');
  $('call-queue').textContent = call.queue || t('call.none');

  show('offer-actions', call.phase === 'offered');
  show('call-actions', call.phase === 'connected');
  show('transfer-hint', call.phase === 'connected');
  $('answer').disabled = !can.answer;
  $('decline').disabled = !can.decline;

  const hold = $('hold');
  hold.disabled = !can.hold;
  hold.setAttribute('aria-pressed', String(call.held));
  hold.textContent = t(call.held ? 'call.unhold' : 'call.hold');

  const mute = $('mute');
  mute.disabled = !can.mute;
  mute.setAttribute('aria-pressed', String(ui.muted));
  mute.textContent = t(ui.muted ? 'call.unmute' : 'call.mute');

  const transfer = $('transfer');
  transfer.disabled = !can.transfer || ui.transferSentFor === call.callId;
  transfer.textContent = ui.transferSentFor === call.callId
    ? t('call.transferring')
    : t('call.transfer');
  $('hangup').disabled = !can.hangup;

  const flags = [];
  if (call.held) flags.push(t('call.held'));
  if (ui.muted && call.phase === 'connected') flags.push(t('call.muted'));
  $('call-flags').textContent = flags.join(' · ');

  renderRecording(call, lang, can);
  renderMonitor(call, lang);
  renderLanguage(call, lang);
}

/**
 * A caller who chose another language: a badge in that language's own name ("English"),
 * read out with the display language's words ("発信者の言語: 英語").
 */
function renderLanguage(call, lang) {
  const code = languageView(call);
  const badge = $('call-language');
  badge.hidden = !code;
  badge.dataset.language = code ?? '';
  if (!code) {
    badge.textContent = '';
    badge.dataset.fallback = '';
    badge.removeAttribute('lang');
    badge.removeAttribute('title');
    badge.removeAttribute('aria-label');
    return;
  }
  // Came by the fallback: said next to the badge, in the display language.
  const fallback = languageFallbackView(call);
  badge.dataset.fallback = fallback ?? '';
  const language = languageName(lang, code);
  const words = translate(lang, fallback ? 'call.language_fallback_label' : 'call.language', { language });
  badge.replaceChildren(languageBadge(code));
  if (fallback) {
    const note = document.createElement('span');
    note.className = 'language-fallback';
    note.lang = lang;
    note.textContent = translate(lang, 'call.language_fallback', { language });
    badge.append(note);
  }
  badge.lang = code;
  badge.title = words;
  badge.setAttribute('aria-label', words);
}

/** Whether a manager listens in, whispers or has joined: the operator must always see it. */
function renderMonitor(call, lang) {
  const mode = monitorView(call);
  const status = $('monitor-status');
  status.hidden = !mode;
  status.dataset.mode = mode ?? 'none';
  status.textContent = mode ? translate(lang, `monitor.status.${mode}`) : '';
}

/** The recording's state beside the call title, its buttons, and what went wrong. */
function renderRecording(call, lang, can) {
  const t = (key) => translate(lang, key);
  const view = recordingView(call);
  const status = $('recording-status');
  status.hidden = !view.status;
  status.dataset.recording = view.status ?? 'none';
  status.textContent = view.status ? t(`recording.status.${view.status}`) : '';

  show('recording-actions', Boolean(view.toggle) || view.start);
  const toggle = $('recording-toggle');
  show('recording-toggle', Boolean(view.toggle));
  toggle.disabled = !can.recordingToggle;
  if (view.toggle) toggle.textContent = t(`recording.${view.toggle}`);
  show('recording-start', view.start);
  $('recording-start').disabled = !can.recordingStart;

  let note = null;
  if (view.refused) note = `recording.refused.${view.refused}`;
  else if (view.status === 'failed') note = 'recording.failed_note';
  const element = $('recording-note');
  element.hidden = !note;
  element.dataset.kind = view.status === 'failed' ? 'failed' : 'refused';
  element.textContent = note ? t(note) : '';
}

function renderAudio(state, ui, lang) {
  const status = $('media-status');
  status.dataset.media = state.media;
  status.textContent = translate(lang, `media.${state.media}`);
  show('media-retry', state.media === 'failed' && state.connection === 'open');
  show('mute-state', ui.muted);
}

function renderWrapup(state, ui, lang, can) {
  const t = (key, params) => translate(lang, key, params);
  const wrapup = state.wrapup;
  show('wrapup-empty', !wrapup);
  show('wrapup-form', Boolean(wrapup));
  if (!wrapup) return;
  $('wrapup-call').textContent = t('wrapup.for_call', {
    caller: wrapup.caller || t('call.caller_unknown'),
  });
  const editing = wrapup.status === 'editing';
  for (const element of $('wrapup-form').querySelectorAll('input, select, textarea')) {
    element.disabled = !editing;
  }
  $('wu-save').disabled = !can.saveWrapup;
  $('wu-save').textContent = t(wrapup.status === 'saving' ? 'wrapup.saving' : 'wrapup.save');
  show('wu-save', wrapup.status !== 'saved');
  show('wu-saved', wrapup.status === 'saved');
  $('wu-available').disabled = !controls(state).available;
  // A filed form, or one opened from the history (not the live call's), can be put away.
  show('wu-close', wrapup.status === 'saved'
    || (wrapup.callId !== state.call?.callId && wrapup.status !== 'saving'));

  const faq = $('wu-faq');
  faq.textContent = ui.faqChoice ? ui.faqChoice.question : t('wrapup.faq_none');
  show('wu-faq-clear', Boolean(ui.faqChoice) && editing);

  const n = noteLength($('wu-note').value);
  $('wu-note-count').textContent = t('wrapup.note_count', { n, max: NOTE_MAX_CHARS });

  for (const field of ['category', 'outcome', 'faq', 'note']) {
    const key = ui.wrapupErrors[field];
    const element = $(`wu-${field}-error`);
    element.hidden = !key;
    element.textContent = key ? fieldErrorText(lang, key) : '';
  }
  const category = $('wu-category');
  category.setAttribute('aria-invalid', String(Boolean(ui.wrapupErrors.category)));
  $('wu-note').setAttribute('aria-invalid', String(Boolean(ui.wrapupErrors.note)));
  for (const radio of document.querySelectorAll('input[name="outcome"]')) {
    radio.setAttribute('aria-invalid', String(Boolean(ui.wrapupErrors.outcome)));
  }
  const formError = $('wu-form-error');
  formError.hidden = !ui.wrapupFormError;
  formError.textContent = ui.wrapupFormError ?? '';
}

/** Field errors are message keys from wrapup.mjs, or the server's own words. */
function fieldErrorText(lang, key) {
  if (key.startsWith('wrapup.error.')) return translate(lang, key, { max: NOTE_MAX_CHARS });
  return key;
}

function renderFaqButtons(can) {
  for (const button of document.querySelectorAll('#faq-results button.use')) {
    button.disabled = !can.useFaq;
  }
}

/** The outcome radio buttons, in the form's language. */
export function renderOutcomes(lang) {
  const box = $('wu-outcomes');
  const checked = box.querySelector('input:checked')?.value ?? '';
  box.replaceChildren(...OUTCOMES.map((outcome) => {
    const id = `wu-outcome-${outcome}`;
    const label = document.createElement('label');
    label.className = 'choice';
    label.htmlFor = id;
    const input = document.createElement('input');
    input.type = 'radio';
    input.name = 'outcome';
    input.id = id;
    input.value = outcome;
    input.checked = outcome === checked;
    label.append(input, ` ${translate(lang, `wrapup.outcome.${outcome}`)}`);
    return label;
  }));
}

/** The category choices ("イ カードの申請"); the current choice is kept. */
export function renderCategories(categories, lang) {
  const select = $('wu-category');
  const current = select.value;
  const blank = document.createElement('option');
  blank.value = '';
  blank.textContent = translate(lang, 'wrapup.choose');
  select.replaceChildren(blank, ...categories.map((category) => {
    const option = document.createElement('option');
    option.value = category.code;
    option.textContent = category.name ? `${category.code} ${category.name}` : category.code;
    return option;
  }));
  select.value = categories.some((c) => c.code === current) ? current : '';
}

/** Today's calls; `onClassify(call)` opens the form for an unclassified one. */
export function renderHistory(history, lang, onClassify) {
  const t = (key, params) => translate(lang, key, params);
  const status = $('history-status');
  const table = $('history-table');
  const calls = history.calls;
  let note = '';
  if (history.status === 'loading' && calls.length === 0) note = t('history.loading');
  else if (history.status === 'error') note = t('history.error');
  else if (calls.length === 0) note = t('history.empty');
  status.hidden = !note;
  status.textContent = note;
  table.hidden = calls.length === 0;
  $('history-rows').replaceChildren(...calls.map((call) => {
    const row = document.createElement('tr');
    const time = call.arrivedAt === null ? '' : formatClock(call.arrivedAt);
    const cells = [
      time,
      call.caller ?? '',
      call.disposition ? dispositionLabel(lang, call.disposition) : '',
      call.talkMs === null ? '' : formatDuration(call.talkMs / 1000),
    ];
    for (const text of cells) {
      const cell = document.createElement('td');
      cell.textContent = text;
      row.append(cell);
    }
    const last = document.createElement('td');
    if (call.classification) {
      const outcome = call.classification.outcome
        ? t(`wrapup.outcome.${call.classification.outcome}`)
        : '';
      last.textContent = [call.classification.category, outcome].filter(Boolean).join(' / ');
    } else {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'quiet small';
      button.textContent = t('history.classify');
      button.setAttribute('aria-label', t('history.classify_label', { time }));
      button.addEventListener('click', () => onClassify(call));
      last.append(button);
    }
    row.append(last);
    return row;
  }));
}

function dispositionLabel(lang, disposition) {
  const key = `disposition.${disposition}`;
  const text = translate(lang, key);
  return text === key ? disposition : text;
}

/** FAQ search results; `onUse(entry)` links an entry to the open wrap-up form. */
export function renderFaq(faq, lang, chosenId, canUse, onUse) {
  const t = (key, params) => translate(lang, key, params);
  let note = '';
  if (faq.status === 'searching') note = t('faq.searching');
  else if (faq.status === 'error') note = t('faq.error');
  else if (faq.status === 'done') note = faq.entries.length ? t('faq.count', { n: faq.entries.length }) : t('faq.none');
  $('faq-status').textContent = note;
  $('faq-results').replaceChildren(...faq.entries.map((entry) => {
    const item = document.createElement('li');
    item.className = 'faq-entry';
    const question = document.createElement('h3');
    question.textContent = entry.question;
    const answer = document.createElement('p');
    answer.className = 'faq-answer';
    answer.textContent = entry.answer;
    const meta = document.createElement('p');
    meta.className = 'faq-meta';
    const parts = [];
    if (entry.category) parts.push(entry.category);
    parts.push(t('faq.uses', { n: entry.uses }));
    meta.textContent = parts.join(' · ');
    const use = document.createElement('button');
    use.type = 'button';
    use.className = 'use small';
    const inUse = chosenId !== null && String(chosenId) === String(entry.id);
    use.textContent = t(inUse ? 'faq.in_use' : 'faq.use');
    use.setAttribute('aria-label', t('faq.use_label', { question: entry.question }));
    use.setAttribute('aria-pressed', String(inUse));
    use.disabled = !canUse;
    use.addEventListener('click', () => onUse(entry));
    item.append(question, answer, meta, use);
    return item;
  }));
}

/** The device choices; unnamed devices (before the microphone is allowed) get numbers. */
export function renderDevices(devices, selected, lang, canSelectOutput) {
  const fill = (select, list, current) => {
    const options = [{ id: '', label: translate(lang, 'audio.default_device') }]
      .concat(list.filter((d) => d.id && d.id !== 'default').map((d, i) => ({
        id: d.id,
        label: d.label || translate(lang, 'audio.device_n', { n: i + 1 }),
      })));
    select.replaceChildren(...options.map((d) => {
      const option = document.createElement('option');
      option.value = d.id;
      option.textContent = d.label;
      return option;
    }));
    select.value = options.some((d) => d.id === current) ? current : '';
  };
  fill($('mic-select'), devices.inputs, selected.input);
  const output = $('output-select');
  if (canSelectOutput) {
    fill(output, devices.outputs, selected.output);
    output.disabled = false;
  } else {
    const option = document.createElement('option');
    option.textContent = translate(lang, 'audio.output_unsupported');
    output.replaceChildren(option);
    output.disabled = true;
  }
}
