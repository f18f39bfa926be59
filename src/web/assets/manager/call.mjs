// The manager's call page (/manager/call.html?id=CALL_ID): one call on one page — its facts
// (with the caller's number), the operator's classification and note, the recording with a
// player and a download, and the timeline of its events — printable as the A4 document a
// complaint is handed to the city with (call.css's print rules; 「印刷 / PDF 保存」 opens the
// browser's print dialog, whose "Save as PDF" is the PDF export). Signs in like the board
// (sign-in.mjs); agents are told the page is for managers.
//
// The data: GET /api/v1/calls/{id} (the server audits the read: `call.view`),
// GET /api/v1/calls/{id}/recording/meta and GET /api/v1/categories. The player points at
// GET /api/v1/calls/{id}/recording with `preload="none"`, so the audio (and the
// `recording.listen` audit entry) is fetched when play is pressed, not when the page opens.
// Nothing here writes the caller's number or the note anywhere but the page.
//
// `window.madoguchiCall.state()` tells the end-to-end tests what the page shows.

import { categoryText, readCategories } from './alerts.mjs';
import {
  callFailureKey, callIdFromSearch, callListRows, callListUrl, callPageHref, factRows, formatDateTime, formatMs,
  isComplaint, listFilterFromSearch, readCall, recordingHref, recordingView, spanBounds, timeline,
} from './call-model.mjs';
import { codeLabel, otherLanguage, storedLanguage, STORAGE_KEY, translate } from './call-i18n.mjs';
import { formatCount, NONE } from './format.mjs';
import { createSession, requestJson } from './session.mjs';
import { createSignIn } from './sign-in.mjs';

const session = createSession();
const page = {
  lang: storedLanguage(),
  timeZone: browserTimeZone(),
  callId: null,
  /** 'idle', 'loading', 'shown' or a message key of why no call is shown. */
  status: 'idle',
  call: null,
  recording: null,
  categories: [],
  /** The list mode (?disposition=…): {filter, status, rows, total}; null when one call is shown. */
  list: null,
  printedAt: null,
  loads: 0,
};
let asked = 0;

const $ = (id) => document.getElementById(id);
const t = (key, params) => translate(page.lang, key, params);
const gate = createSignIn({
  session,
  t,
  view: { name: 'call', id: 'call-view' },
  onSignedIn: () => route(window.location.search),
  onSignedOut: () => {
    asked += 1;
    page.call = null;
    page.recording = null;
    page.list = null;
    page.status = 'idle';
    stopAudio();
    render();
  },
});

function browserTimeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

// ---- loading ----

/** A call id in the address opens that call; else a disposition filter lists calls. */
function route(search) {
  const filter = listFilterFromSearch(search);
  const id = callIdFromSearch(search);
  if (!id && filter) loadList(filter);
  else load(id);
}

/** Asks for the calls of `filter` (the newest page) and lists them. */
async function loadList(filter) {
  asked += 1;
  const mine = asked;
  page.callId = null;
  page.call = null;
  page.recording = null;
  page.status = 'list';
  page.list = { filter, status: 'loading', rows: [], total: 0 };
  render();
  const answer = await requestJson(window.fetch.bind(window), callListUrl(filter), 'GET')
    .catch(() => ({ status: 0 }));
  if (mine !== asked) return;
  if (answer.status === 401) {
    page.status = 'idle';
    page.list = null;
    gate.expired();
    return;
  }
  if (answer.status === 403) {
    page.status = 'idle';
    page.list = null;
    gate.forbidden();
    return;
  }
  page.list = answer.status === 200
    ? {
      filter,
      status: 'shown',
      rows: callListRows(answer.data, { timeZone: page.timeZone }),
      total: Number(answer.data?.total) || 0,
    }
    : { filter, status: callFailureKey(answer.status), rows: [], total: 0 };
  render();
}

/** Asks for the call `id` (null: none given), its recording and the categories; shows them. */
async function load(id) {
  asked += 1;
  const mine = asked;
  page.callId = id;
  page.call = null;
  page.recording = null;
  page.list = null;
  if (!id) {
    page.status = 'state.no_id';
    render();
    $('open-id').focus();
    return;
  }
  page.status = 'loading';
  render();
  const path = `/api/v1/calls/${encodeURIComponent(id)}`;
  const ask = (url) => requestJson(window.fetch.bind(window), url, 'GET').catch(() => ({ status: 0 }));
  const [answer, meta, categories] = await Promise.all([
    ask(path),
    ask(`${path}/recording/meta`),
    session.categories().catch(() => []),
  ]);
  if (mine !== asked) return;
  if (answer.status === 401) {
    page.status = 'idle';
    gate.expired();
    return;
  }
  if (answer.status === 403) {
    page.status = 'idle';
    gate.forbidden();
    return;
  }
  const call = answer.status === 200 ? readCall(answer.data) : null;
  if (!call) {
    page.status = callFailureKey(answer.status === 200 ? -1 : answer.status);
    render();
    return;
  }
  page.call = call;
  page.recording = recordingView(meta);
  page.categories = readCategories(categories);
  page.status = 'shown';
  page.printedAt = new Date();
  page.loads += 1;
  render();
}

// ---- rendering ----

function applyLanguage() {
  document.documentElement.lang = page.lang;
  for (const element of document.querySelectorAll('[data-i18n]')) {
    element.textContent = t(element.dataset.i18n);
  }
  $('lang-toggle').textContent = t('lang.toggle');
  gate.render();
  render();
}

function render() {
  const { call } = page;
  const shown = page.status === 'shown' && call;
  const title = shown ? t(isComplaint(call) ? 'print.title.complaint' : 'print.title.call') : t('app.title');
  document.title = shown ? `${title} ${call.id}` : `madoguchi ${title}`;

  const status = $('call-status');
  renderList();
  status.hidden = shown || page.status === 'idle' || page.status === 'list';
  if (!status.hidden) {
    status.textContent = page.status === 'loading'
      ? t('state.loading')
      : t(page.status, { id: page.callId ?? NONE });
  }
  $('call-record').hidden = !shown;
  if (!shown) return;

  $('doc-title').textContent = title;
  $('doc-subtitle').textContent = t('print.subtitle', { id: call.id });
  const flag = $('complaint-flag');
  flag.hidden = !isComplaint(call);
  flag.textContent = t('classification.complaint');
  renderFacts();
  renderClassification();
  renderRecording();
  renderTimeline();
  $('times-note').textContent = t('print.times', { tz: page.timeZone });
  renderPrinted();
}

function listStatusText(list) {
  if (list.status === 'loading') return t('list.loading');
  if (list.status !== 'shown') return t(list.status, { id: NONE });
  if (list.rows.length === 0) return t('list.none');
  if (list.total > list.rows.length) {
    return t('list.truncated', { n: formatCount(list.rows.length), total: formatCount(list.total) });
  }
  return t('list.count', { n: formatCount(list.rows.length) });
}

function renderList() {
  const { list } = page;
  const section = $('call-list');
  section.hidden = page.status !== 'list' || !list;
  if (section.hidden) return;
  const { disposition, from } = list.filter;
  const heading = t('list.heading', { disposition: codeLabel(page.lang, 'disposition', disposition) });
  $('list-heading').textContent = from
    ? `${heading} ${t('list.since', { from: formatDateTime(from, page.timeZone) })}`
    : heading;
  $('list-status').textContent = listStatusText(list);
  $('list-table').hidden = list.rows.length === 0;
  $('list-rows').replaceChildren(...list.rows.map((row) => {
    const tr = document.createElement('tr');
    tr.dataset.callId = row.id;
    const cells = [['mono', row.arrived], ['mono personal', row.caller], ['', row.queue],
      ['num mono', row.waited]];
    tr.append(...cells.map(([className, text]) => {
      const td = document.createElement('td');
      if (className) td.className = className;
      td.textContent = text;
      return td;
    }));
    const open = document.createElement('td');
    const link = document.createElement('a');
    link.href = row.href;
    link.className = 'mono';
    link.textContent = row.id;
    link.setAttribute('aria-label', t('list.open_label', { time: row.arrived }));
    open.append(link);
    tr.append(open);
    return tr;
  }));
}

/**
 * Fills the <dl> `list` with [label, value, className?, key?] rows; a value that is a list
 * gives one <dd> each, and `key` becomes the <dd>'s `data-fact`.
 */
function fillList(list, rows) {
  list.replaceChildren(...rows.flatMap(([label, value, className, key]) => {
    const dt = document.createElement('dt');
    dt.textContent = label;
    const values = Array.isArray(value) ? value : [value];
    return [dt, ...values.map((text) => {
      const dd = document.createElement('dd');
      if (className) dd.className = className;
      if (key) dd.dataset.fact = key;
      dd.textContent = text;
      return dd;
    })];
  }));
}

function renderFacts() {
  const rows = factRows(page.call, { t, timeZone: page.timeZone });
  fillList($('facts'), rows.map((row) => [row.label, row.value, row.personal ? 'personal' : '', row.key]));
}

function renderClassification() {
  const c = page.call.classification;
  $('classification-none').hidden = Boolean(c);
  const note = $('note');
  if (!c) {
    fillList($('classification'), []);
    note.textContent = t('classification.no_note');
    note.classList.add('empty');
    return;
  }
  const yesNo = (flag) => t(flag ? 'yes' : 'no');
  const filed = `${formatDateTime(c.updatedAt, page.timeZone)}${
    c.revision > 1 ? t('classification.revision', { n: c.revision }) : ''}`;
  fillList($('classification'), [
    [t('classification.category'), categoryText(c.category, page.categories)],
    [t('classification.outcome'), codeLabel(page.lang, 'outcome', c.outcome) || NONE],
    [t('classification.complaint'), yesNo(c.complaint)],
    [t('classification.escalated'), yesNo(c.escalated)],
    [t('classification.faq'), c.faqId === null ? NONE : t('classification.faq_value', { id: c.faqId })],
    [t('classification.by'), c.operator || NONE],
    [t('classification.updated'), filed],
  ]);
  const hasNote = Boolean(c.note && c.note.trim());
  note.textContent = hasNote ? c.note : t('classification.no_note');
  note.classList.toggle('empty', !hasNote);
}

function recordingStateText(rec) {
  if (rec.state === 'ready') return t('recording.state.ready');
  return t(`recording.state.${rec.state}`, { error: rec.error || t('recording.unknown_error') });
}

function renderRecording() {
  const rec = page.recording ?? recordingView(null);
  const line = $('recording-state');
  line.dataset.state = rec.state;
  line.textContent = recordingStateText(rec);
  $('player').hidden = !rec.playable;
  const audio = $('audio');
  audio.setAttribute('aria-label', t('recording.audio_label'));
  if (rec.playable) {
    const href = recordingHref(page.call.id);
    // Set once: setting it again would restart a playback (on a language change, say).
    if (audio.getAttribute('src') !== href) audio.src = href;
    $('download').href = recordingHref(page.call.id, { download: true });
    $('download').download = `call-${page.call.id}.wav`;
  } else {
    stopAudio();
    $('download').removeAttribute('href');
  }
  const facts = $('recording-facts');
  const described = !['none', 'forbidden', 'unavailable'].includes(rec.state);
  facts.hidden = !described;
  if (!described) return;
  const spans = rec.paused.length
    ? rec.paused.map((span) => t('recording.paused_span', spanBounds(span)))
    : t('recording.no_pause');
  fillList(facts, [
    [t('recording.status'), codeLabel(page.lang, 'recording.status', rec.status), '', 'status'],
    [t('recording.duration'), rec.durationMs === null
      ? NONE
      : t('recording.duration_value', { time: formatMs(rec.durationMs), ms: formatCount(rec.durationMs) }),
    '', 'duration'],
    [t('recording.paused'), spans, '', 'paused'],
    [t('recording.size'), rec.bytes === null ? NONE : t('recording.bytes', { n: formatCount(rec.bytes) }),
      '', 'size'],
    [t('recording.sha256'), rec.sha256 ?? NONE, 'checksum', 'sha256'],
    [t('recording.started'), formatDateTime(rec.startedAt, page.timeZone), '', 'started'],
  ]);
}

function stopAudio() {
  const audio = $('audio');
  if (!audio.getAttribute('src')) return;
  audio.pause();
  audio.removeAttribute('src');
  audio.load();
}

function renderTimeline() {
  const lines = timeline(page.call, { t, timeZone: page.timeZone });
  $('timeline-none').hidden = lines.length > 0;
  $('timeline').hidden = lines.length === 0;
  $('timeline-caption').textContent = t('timeline.heading');
  $('timeline-rows').replaceChildren(...lines.map((line) => {
    const tr = document.createElement('tr');
    tr.dataset.kind = line.kind;
    const cells = [
      ['mono', line.time],
      ['num mono', line.elapsed],
      ['', line.label],
      ['', line.detail],
    ];
    tr.append(...cells.map(([className, text]) => {
      const td = document.createElement('td');
      if (className) td.className = className;
      td.textContent = text;
      return td;
    }));
    return tr;
  }));
}

function renderPrinted() {
  $('printed').textContent = t('print.printed', {
    at: formatDateTime(page.printedAt ?? new Date(), page.timeZone),
    tz: page.timeZone,
    login: gate.user?.login ?? NONE,
  });
}

/** The document says when it was printed and by whom: stamped just before printing. */
function stampPrinted() {
  page.printedAt = new Date();
  if (page.status === 'shown') renderPrinted();
}

// ---- wiring ----

function openCall(event) {
  event.preventDefault();
  const error = $('open-error');
  const id = callIdFromSearch(`?id=${encodeURIComponent($('open-id').value)}`);
  if (!id) {
    error.textContent = t('open.error.required');
    error.hidden = false;
    $('open-id').setAttribute('aria-invalid', 'true');
    $('open-id').focus();
    return;
  }
  error.hidden = true;
  $('open-id').removeAttribute('aria-invalid');
  window.history.pushState(null, '', callPageHref(id));
  load(id);
}

function wire() {
  gate.wire();
  $('open-form').addEventListener('submit', openCall);
  $('print').addEventListener('click', () => {
    stampPrinted();
    window.print();
  });
  window.addEventListener('beforeprint', stampPrinted);
  window.addEventListener('popstate', () => {
    if (gate.view === 'call') route(window.location.search);
  });
  $('lang-toggle').addEventListener('click', () => {
    page.lang = otherLanguage(page.lang);
    try {
      window.localStorage.setItem(STORAGE_KEY, page.lang);
    } catch {
      // Not remembered; the toggle still works for this page.
    }
    applyLanguage();
  });
}

window.madoguchiCall = {
  state: () => ({
    view: gate.view,
    user: gate.user,
    lang: page.lang,
    timeZone: page.timeZone,
    status: page.status,
    callId: page.callId,
    loads: page.loads,
    complaint: page.call ? isComplaint(page.call) : null,
    recording: page.recording?.state ?? null,
    playable: page.recording?.playable ?? null,
    events: page.call ? page.call.events.map((e) => e.kind) : null,
    list: page.list
      ? {
        disposition: page.list.filter.disposition,
        from: page.list.filter.from,
        status: page.list.status,
        ids: page.list.rows.map((row) => row.id),
      }
      : null,
  }),
};

wire();
applyLanguage();
gate.start();
