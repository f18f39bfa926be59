// The manager's live board: signs in, then follows two event streams — the live state
// (/api/v1/queues/stream, `state`) and complaint alerts (/api/v1/complaints/stream,
// `complaint`) — and draws them. No polling: the engine pushes a state on every change and at
// least every 5 s; waits and times in state tick here every second from their `since`.
// EventSource reconnects by itself; a stream the server refused (a session gone) is checked
// against GET /api/v1/session and the sign-in form (sign-in.mjs) comes back if needed. Each
// time the complaint stream opens, today's complaints are listed (GET /api/v1/complaints) and
// merged in, so those filed before the board opened or while the stream was down are shown
// too; only news raises the banner (alerts.mjs says which). An operator on a call gets
// buttons to listen in, whisper or barge in from the manager's own SIP phone (live.mjs says
// which buttons and builds the requests); a refusal is shown next to the operator for a while.
//
// `window.madoguchiBoard.state()` tells the end-to-end tests what the board shows.

import { previousMonth, reportLinks } from './report.mjs';
import { formatClockTime, formatCount, formatDuration, formatPercent, serviceLevelGrade } from './format.mjs';
import {
  languageBadge, languageName, otherLanguage, storedLanguage, outcomeLabel, stateLabel, STORAGE_KEY,
  translate,
} from './i18n.mjs';
import {
  callbacksHref, groupOperators, languageWaitState, monitorControls, monitorFailureKey, monitorRequest,
  queueLongestWait, readSnapshot, secondsSince, STATE_ORDER, waitingCallers, waitingSummary,
} from './live.mjs';
import { chartModel, SERIES } from './chart.mjs';
import { addAlert, categoryText, fetchComplaints, mergeListed, readCategories, readComplaint } from './alerts.mjs';
import { callPageHref } from './call-model.mjs';
import { mountDevices } from './devices.mjs';
import { createSession, requestJson } from './session.mjs';
import { createSignIn } from './sign-in.mjs';

const SVG = 'http://www.w3.org/2000/svg';
const RETRY_MS = [1000, 2000, 5000, 10000, 30000];
// How long a refused monitor request's reason stays next to the operator.
const MONITOR_ERROR_MS = 8000;

const session = createSession();
const board = {
  lang: storedLanguage(),
  wall: new URLSearchParams(window.location.search).get('wall') === '1',
  connection: 'closed',
  snapshot: null,
  states: 0,
  alerts: [],
  banner: null,
  // How often the banner was raised (the end-to-end tests check it never flashes).
  raised: 0,
  // Whether today's complaints were listed since sign-in: later listings may raise the banner.
  alertsListed: false,
  categories: [],
  // A refused monitor request's message key per operator login, until it times out.
  monitorErrors: new Map(),
  // Calls with a monitor request on its way (their buttons do nothing meanwhile).
  monitorPending: new Set(),
};
let streams = [];
let retry = 0;
let retryTimer = null;
let recovering = false;
// The counter's devices panel and banner (devices.mjs).
let devices = null;

const $ = (id) => document.getElementById(id);
const fields = (name) => document.querySelectorAll(`[data-field="${name}"]`);
const t = (key, params) => translate(board.lang, key, params);
const gate = createSignIn({
  session,
  t,
  view: { name: 'board', id: 'board-view' },
  onSignedIn: () => {
    openStreams();
    loadCategories();
    devices.start();
  },
  onSignedOut: () => {
    closeStreams();
    forgetAlerts();
    devices.stop();
  },
  onShow: (view) => {
    $('connection').hidden = view !== 'board';
    $('updated').hidden = view !== 'board' || !board.snapshot;
  },
});

function setField(name, text) {
  for (const element of fields(name)) {
    if (element.textContent !== text) element.textContent = text;
  }
}

// ---- views ----

function applyLanguage() {
  document.documentElement.lang = board.lang;
  document.title = `madoguchi ${t('app.title')}`;
  for (const element of document.querySelectorAll('[data-i18n]')) {
    element.textContent = t(element.dataset.i18n);
  }
  $('lang-toggle').textContent = t('lang.toggle');
  gate.render();
  setConnection(board.connection);
  renderAll();
}

function applyWall() {
  document.body.classList.toggle('wall', board.wall);
  $('wall-toggle').setAttribute('aria-pressed', String(board.wall));
  renderChart();
}

function setConnection(connection) {
  board.connection = connection;
  const element = $('connection');
  element.dataset.state = connection;
  element.textContent = t(`connection.${connection}`);
}

// ---- session ----

function start() {
  applyLanguage();
  applyWall();
  gate.start();
}

async function loadCategories() {
  try {
    board.categories = readCategories(await session.categories());
    renderAlerts();
  } catch {
    // The alerts show the bare code instead.
  }
}

// ---- streams ----

function openStreams() {
  closeStreams();
  setConnection('connecting');
  const live = new EventSource('/api/v1/queues/stream');
  live.addEventListener('open', () => {
    retry = 0;
    setConnection('open');
  });
  live.addEventListener('state', (event) => {
    try {
      board.snapshot = readSnapshot(JSON.parse(event.data), Date.now());
    } catch {
      return;
    }
    board.states += 1;
    setConnection('open');
    renderAll();
  });
  live.addEventListener('error', () => streamFailed(live));
  const complaints = new EventSource('/api/v1/complaints/stream');
  complaints.addEventListener('complaint', (event) => {
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    const alert = readComplaint(data, Date.now());
    if (!alert) return;
    board.alerts = addAlert(board.alerts, alert);
    raise(alert);
    renderAlerts();
  });
  // Listed once subscribed, so a complaint filed meanwhile is in the stream, the list or both.
  complaints.addEventListener('open', () => listComplaints(complaints));
  complaints.addEventListener('error', () => streamFailed(complaints));
  streams = [live, complaints];
}

/** Merges today's complaints into the alerts; `stream` is the complaint stream that opened. */
async function listComplaints(stream) {
  let fetched;
  try {
    fetched = await fetchComplaints();
  } catch {
    // The stream still brings new ones; the next (re)connection lists again.
    return;
  }
  if (!streams.includes(stream)) return;
  const { list, raise: news } = mergeListed(board.alerts, fetched, { first: !board.alertsListed });
  board.alerts = list;
  board.alertsListed = true;
  if (news) raise(news);
  renderAlerts();
}

function raise(alert) {
  board.banner = alert;
  board.raised += 1;
  announce(t('alerts.announce', {
    operator: alert.operator,
    category: categoryText(alert.category, board.categories),
  }));
}

/** Signed out or not a manager: the alerts are not for this page any more. */
function forgetAlerts() {
  board.alerts = [];
  board.banner = null;
  board.alertsListed = false;
  renderAlerts();
}

function closeStreams() {
  for (const stream of streams) stream.close();
  streams = [];
  clearTimeout(retryTimer);
  retryTimer = null;
  setConnection('closed');
}

/** EventSource retries a dropped stream itself; one the server refused is closed for good. */
async function streamFailed(stream) {
  if (stream.readyState !== EventSource.CLOSED) {
    setConnection('connecting');
    return;
  }
  // Both streams fail together when the session ends: one of them recovers for both.
  if (recovering || retryTimer || !streams.includes(stream)) return;
  recovering = true;
  setConnection('closed');
  let user = gate.user;
  try {
    user = await session.current();
  } catch {
    // The server is down: keep the user and try again later.
  } finally {
    recovering = false;
  }
  if (!streams.includes(stream)) return;
  if (!user) {
    gate.expired();
    return;
  }
  const delay = RETRY_MS[Math.min(retry, RETRY_MS.length - 1)];
  retry += 1;
  retryTimer = setTimeout(() => {
    retryTimer = null;
    if (gate.view === 'board') openStreams();
  }, delay);
}

function announce(text) {
  const region = $('live-assertive');
  region.textContent = '';
  // A fresh node after a pause, so the same words twice are announced twice.
  setTimeout(() => { region.textContent = text; }, 50);
}

// ---- rendering ----

function renderAll() {
  renderSnapshot();
  renderTimes();
  renderChart();
  renderAlerts();
  devices?.render();
}

function renderSnapshot() {
  const s = board.snapshot;
  if (!s) return;
  setField('threshold', t('kpi.threshold', { s: s.thresholdS }));
  for (const key of ['offered', 'answered', 'abandoned', 'overflowed', 'transferred']) {
    setField(key, formatCount(s.today[key]));
  }
  renderCallbacks(s);
  const { today, last30 } = s.figures;
  setField('sl-today', formatPercent(today.serviceLevel));
  setField('sl-30', formatPercent(last30.serviceLevel));
  $('kpi-sl-today').dataset.grade = serviceLevelGrade(today.serviceLevel);
  $('kpi-sl-30').dataset.grade = serviceLevelGrade(last30.serviceLevel);
  const pairs = [
    ['asa', formatDuration, 'asaS'],
    ['aht', formatDuration, 'ahtS'],
    ['abandon-rate', formatPercent, 'abandonRate'],
    ['answer-rate', formatPercent, 'answerRate'],
  ];
  for (const [name, format, key] of pairs) {
    setField(name, format(today[key]));
    setField(`${name}-30`, t('kpi.last30_suffix', { value: format(last30[key]) }));
  }
  renderQueues(s);
  renderWaiting(s);
  renderOperators(s);
  renderRecordingFailure(s.recordingFailure);
}

/** Today's callback requests: a link to their list while there are any, else a plain 0. */
function renderCallbacks(s) {
  const cell = $('today-callbacks');
  if (!cell) return;
  const text = formatCount(s.today.callbacks);
  const href = callbacksHref(s);
  const link = cell.querySelector('a');
  if (!href) {
    if (link || cell.textContent !== text) cell.textContent = text;
    return;
  }
  // Kept across snapshots: a rebuilt link would lose the keyboard focus every second.
  const a = link ?? document.createElement('a');
  if (a.getAttribute('href') !== href) a.href = href;
  if (a.textContent !== text) a.textContent = text;
  a.title = t('today.callbacks_link');
  if (!link) cell.replaceChildren(a);
}

/** A standing warning while recordings fail (until the engine restarts). */
function renderRecordingFailure(failure) {
  const warning = $('recording-warning');
  if (!warning) return;
  warning.hidden = !failure;
  if (failure) {
    warning.textContent = t(failure.diskFull ? 'recording.failed.disk_full' : 'recording.failed.other', {
      count: formatCount(failure.count),
      time: formatClockTime(failure.atMs),
    });
  }
}

function renderQueues(s) {
  const body = $('queue-rows');
  body.replaceChildren(...s.queues.map((queue) => {
    const row = document.createElement('tr');
    row.dataset.queue = queue.name;
    const name = document.createElement('th');
    name.scope = 'row';
    name.textContent = queue.label;
    row.append(
      name,
      cell(String(queue.waiting.length), 'num mono', 'queue-waiting'),
      cell('', 'num mono', 'queue-longest'),
      cell(`${queue.available} / ${queue.loggedIn}`, 'num mono'),
    );
    return row;
  }));
}

/** Everyone waiting, with the language a caller chose when it is not the default one. */
function renderWaiting(s) {
  const callers = waitingCallers(s, Date.now());
  $('waiting-none').hidden = callers.length > 0;
  $('waiting-table').hidden = callers.length === 0;
  $('waiting-rows').replaceChildren(...callers.map((caller) => {
    const row = document.createElement('tr');
    row.dataset.callId = caller.callId;
    row.dataset.language = caller.language ?? '';
    const language = cell('', '', 'waiting-language');
    if (caller.language) {
      const badge = document.createElement('span');
      badge.className = 'language-badge';
      badge.lang = caller.language;
      badge.textContent = languageBadge(caller.language);
      const words = t('waiting.language_label', { language: languageName(board.lang, caller.language) });
      badge.title = words;
      badge.setAttribute('aria-label', words);
      language.append(badge);
      const status = languageWaitStatus(caller);
      if (status) language.append(' ', status);
    }
    const wait = cell('', 'num mono', 'waiting-time');
    wait.dataset.sinceMs = String(caller.sinceMs);
    row.append(
      cell(String(caller.position), 'num mono'),
      cell(caller.queueLabel, ''),
      language,
      wait,
    );
    return row;
  }));
}

/**
 * Whether a language caller still waits for an operator speaking its language (with the
 * time of that wait, ticking) or is offered to anyone; null when neither applies.
 */
function languageWaitStatus(caller) {
  const state = languageWaitState(caller, caller.waitS);
  if (!state) return null;
  const status = document.createElement('span');
  status.className = 'language-wait';
  status.dataset.role = 'language-wait';
  status.dataset.state = state.state;
  status.dataset.language = caller.language;
  status.dataset.sinceMs = String(caller.sinceMs);
  status.dataset.afterS = String(caller.languageWaitS ?? '');
  status.textContent = languageWaitText(state, caller.language);
  if (state.state === 'anyone') {
    const words = t('waiting.language_anyone_label', { language: languageName(board.lang, caller.language) });
    status.title = words;
    status.setAttribute('aria-label', words);
  }
  return status;
}

function languageWaitText(state, language) {
  return state.state === 'anyone'
    ? t('waiting.language_anyone')
    : t('waiting.language_speaker', {
      language: languageName(board.lang, language),
      waited: formatDuration(state.waitedS),
      after: formatDuration(state.afterS),
    });
}

function renderOperators(s) {
  const { sorted, counts } = groupOperators(s.operators);
  $('state-counts').replaceChildren(...STATE_ORDER.map((state) => {
    const item = document.createElement('li');
    item.dataset.state = state;
    const label = document.createElement('span');
    label.textContent = stateLabel(board.lang, state, null);
    const count = document.createElement('strong');
    count.className = 'mono';
    count.textContent = String(counts[state]);
    item.append(label, ' ', count);
    return item;
  }));
  $('operators-none').hidden = sorted.length > 0;
  // Rows are redrawn on every state: keep the keyboard focus on the same button.
  const focused = document.activeElement?.closest?.('#operator-rows')
    ? document.activeElement.dataset.focusKey
    : null;
  $('operator-rows').replaceChildren(...sorted.map((op) => {
    const row = document.createElement('tr');
    row.dataset.login = op.login;
    row.dataset.state = op.state;
    const name = document.createElement('th');
    name.scope = 'row';
    name.textContent = op.login;
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.dataset.state = op.state;
    badge.textContent = stateLabel(board.lang, op.state, op.reason);
    const state = document.createElement('td');
    state.append(badge);
    const monitor = monitorCell(op, s.monitors);
    if (monitor) state.append(monitor);
    const time = cell('', 'num mono', 'operator-time');
    time.dataset.sinceMs = String(op.sinceMs);
    row.append(name, state, time);
    return row;
  }));
  if (focused) {
    const again = [...$('operator-rows').querySelectorAll('[data-focus-key]')]
      .find((element) => element.dataset.focusKey === focused);
    again?.focus();
  }
}

/**
 * Who monitors the operator's call and the buttons to start, switch or end it; the reason
 * a request was refused. Null for an operator with no call to monitor and no message.
 */
function monitorCell(op, monitors) {
  const controls = monitorControls(op, monitors);
  const error = board.monitorErrors.get(op.login);
  if (!controls && !error) return null;
  const block = document.createElement('div');
  block.className = 'monitor';
  block.dataset.role = 'monitor';
  if (controls?.monitor) {
    const status = document.createElement('span');
    status.className = 'monitor-status';
    status.dataset.role = 'monitor-status';
    status.textContent = t('monitor.active', {
      manager: controls.monitor.by,
      mode: t(controls.monitor.mode ? `monitor.${controls.monitor.mode}` : 'monitor.ringing'),
    });
    block.append(status);
  }
  if (controls) {
    const buttons = document.createElement('span');
    buttons.className = 'monitor-buttons';
    buttons.setAttribute('role', 'group');
    buttons.setAttribute('aria-label', t('monitor.controls', { operator: op.login }));
    const button = (action, mode) => {
      const element = document.createElement('button');
      element.type = 'button';
      element.className = 'monitor-button';
      element.dataset.monitor = action === 'stop' ? 'stop' : mode;
      element.dataset.focusKey = `${op.login} ${element.dataset.monitor}`;
      const label = t(action === 'stop' ? 'monitor.stop' : `monitor.${mode}`);
      element.textContent = label;
      element.setAttribute('aria-label', t('monitor.button', { operator: op.login, action: label }));
      element.addEventListener('click', () => sendMonitor(op.login, controls.callId, action, mode));
      return element;
    };
    buttons.append(...controls.modes.map((mode) => button(controls.action, mode)));
    if (controls.stop) buttons.append(button('stop'));
    block.append(buttons);
  }
  if (error) {
    const message = document.createElement('span');
    message.className = 'monitor-error';
    message.dataset.role = 'monitor-error';
    message.textContent = t(error.key);
    block.append(message);
  }
  return block;
}

/** Sends one monitor request; a refusal is shown next to the operator for a while. */
async function sendMonitor(login, callId, action, mode) {
  if (board.monitorPending.has(callId)) return;
  board.monitorPending.add(callId);
  let key = null;
  try {
    const { method, path, body } = monitorRequest(callId, action, mode);
    const answer = await requestJson(window.fetch.bind(window), path, method, body);
    if (!answer.ok) key = monitorFailureKey(answer.status, answer.data?.error);
  } catch {
    key = monitorFailureKey(0, null);
  } finally {
    board.monitorPending.delete(callId);
  }
  showMonitorError(login, key);
}

/** Shows (or with `key` null clears) the monitor message next to operator `login`. */
function showMonitorError(login, key) {
  clearTimeout(board.monitorErrors.get(login)?.timer);
  if (key) {
    const timer = setTimeout(() => showMonitorError(login, null), MONITOR_ERROR_MS);
    board.monitorErrors.set(login, { key, timer });
  } else {
    board.monitorErrors.delete(login);
  }
  if (!board.snapshot) return;
  renderOperators(board.snapshot);
  renderTimes();
}

function cell(text, className, role) {
  const element = document.createElement('td');
  element.className = className;
  element.textContent = text;
  if (role) element.dataset.role = role;
  return element;
}

/** The times that move every second: waits and times in state. */
function renderTimes() {
  const s = board.snapshot;
  if (!s) return;
  const now = Date.now();
  const { waiting, longestS } = waitingSummary(s, now);
  setField('waiting', formatCount(waiting));
  setField('longest', formatDuration(longestS));
  $('kpi-waiting').dataset.active = String(waiting > 0);
  for (const row of $('queue-rows').children) {
    const queue = s.queues.find((q) => q.name === row.dataset.queue);
    const longest = row.querySelector('[data-role="queue-longest"]');
    if (queue && longest) longest.textContent = formatDuration(queueLongestWait(queue, now, s.offsetMs));
  }
  for (const time of document.querySelectorAll('[data-role="waiting-time"]')) {
    time.textContent = formatDuration(secondsSince(Number(time.dataset.sinceMs), now, s.offsetMs));
  }
  for (const status of document.querySelectorAll('[data-role="language-wait"][data-state="speaker"]')) {
    const afterS = Number(status.dataset.afterS);
    const waitedS = Math.min(secondsSince(Number(status.dataset.sinceMs), now, s.offsetMs), afterS);
    status.textContent = languageWaitText({ state: 'speaker', waitedS, afterS }, status.dataset.language);
  }
  for (const time of document.querySelectorAll('[data-role="operator-time"]')) {
    time.textContent = formatDuration(secondsSince(Number(time.dataset.sinceMs), now, s.offsetMs));
  }
  $('updated').hidden = gate.view !== 'board';
  $('updated').textContent = t('updated', { time: formatClockTime(now + s.offsetMs) });
}

function renderChart() {
  const s = board.snapshot;
  const svg = $('chart');
  if (!s || !svg) return;
  const width = Math.max(320, Math.round(svg.clientWidth || 800));
  const height = Math.max(160, Math.round(svg.clientHeight || 240));
  const fontSize = board.wall ? 18 : 12;
  const model = chartModel(s.intervals, {
    width, height, left: fontSize * 3, bottom: fontSize * 2, labelGap: fontSize * 3.6,
  });
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  const totals = Object.fromEntries(SERIES.map((series) => [series, s.today[series] ?? 0]));
  svg.setAttribute('aria-label', t('chart.label', totals));
  const nodes = [];
  for (const tick of model.ticks) {
    nodes.push(svgNode('line', { x1: model.left, x2: width, y1: tick.y, y2: tick.y, class: 'gridline' }));
    nodes.push(svgNode('text', { x: model.left - 6, y: tick.y + fontSize / 3, class: 'axis', 'text-anchor': 'end', 'font-size': fontSize }, formatCount(tick.value)));
  }
  for (const group of model.groups) {
    const g = svgNode('g', { class: 'interval' });
    g.append(svgNode('title', {}, SERIES.map((series, k) => t('chart.bar', {
      start: group.start, series: t(`chart.${series}`), value: group.bars[k].value,
    })).join(' / ')));
    for (const bar of group.bars) {
      g.append(svgNode('rect', { x: bar.x, y: bar.y, width: bar.width, height: bar.height, class: `bar ${bar.series}` }));
    }
    nodes.push(g);
    if (group.label) {
      nodes.push(svgNode('text', { x: group.labelX, y: height - fontSize / 2, class: 'axis', 'text-anchor': 'middle', 'font-size': fontSize }, group.label));
    }
  }
  nodes.push(svgNode('line', { x1: model.left, x2: width, y1: model.baseline, y2: model.baseline, class: 'baseline' }));
  svg.replaceChildren(...nodes);
}

function svgNode(name, attributes, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function renderAlerts() {
  const list = $('alert-list');
  if (!list) return;
  $('alerts-none').hidden = board.alerts.length > 0;
  list.replaceChildren(...board.alerts.map((alert) => {
    const item = document.createElement('li');
    item.dataset.callId = alert.callId;
    const time = document.createElement('time');
    time.className = 'mono';
    time.dateTime = new Date(alert.atMs).toISOString();
    time.textContent = formatClockTime(alert.atMs);
    const who = document.createElement('strong');
    who.textContent = alert.operator;
    // The category opens the call's page: its record, note and recording.
    const what = document.createElement('a');
    what.href = callPageHref(alert.callId);
    what.textContent = categoryText(alert.category, board.categories);
    const outcome = document.createElement('span');
    outcome.className = 'hint';
    outcome.textContent = outcomeLabel(board.lang, alert.outcome);
    item.append(time, ' ', who, ' ', what, ' ', outcome);
    return item;
  }));
  const banner = $('alert-banner');
  banner.hidden = !board.banner;
  if (board.banner) {
    $('alert-banner-text').textContent = t('alerts.banner', {
      operator: board.banner.operator,
      category: categoryText(board.banner.category, board.categories),
      time: formatClockTime(board.banner.atMs),
    });
  }
}

// ---- wiring ----

function wire() {
  gate.wire();
  $('lang-toggle').addEventListener('click', () => {
    board.lang = otherLanguage(board.lang);
    try {
      window.localStorage.setItem(STORAGE_KEY, board.lang);
    } catch {
      // Not remembered; the toggle still works for this page.
    }
    applyLanguage();
  });
  $('wall-toggle').addEventListener('click', () => {
    board.wall = !board.wall;
    const url = new URL(window.location.href);
    if (board.wall) url.searchParams.set('wall', '1');
    else url.searchParams.delete('wall');
    window.history.replaceState(null, '', url);
    applyWall();
  });
  $('alert-banner-dismiss').addEventListener('click', () => {
    board.banner = null;
    renderAlerts();
  });
  window.addEventListener('resize', renderChart);
  setInterval(renderTimes, 1000);
  const month = $('report-month');
  month.value = previousMonth(new Date());
  month.addEventListener('input', updateReportLinks);
  updateReportLinks();
}

/** Points the download links at the chosen month's report (hidden for an incomplete input). */
function updateReportLinks() {
  const links = reportLinks($('report-month').value);
  for (const format of ['xlsx', 'csv']) {
    const anchor = $(`report-${format}`);
    anchor.hidden = !links;
    if (links) anchor.href = links[format];
  }
}

window.madoguchiBoard = {
  state: () => ({
    view: gate.view,
    user: gate.user,
    connection: board.connection,
    wall: board.wall,
    lang: board.lang,
    states: board.states,
    alerts: board.alerts.map((a) => ({ ...a })),
    banner: board.banner ? board.banner.callId : null,
    raised: board.raised,
    monitorErrors: Object.fromEntries([...board.monitorErrors].map(([login, e]) => [login, e.key])),
    devices: devices.state(),
  }),
};

devices = mountDevices({ t, announce, formatDuration });
wire();
start();
