// The manager's staffing page (/manager/staffing.html): how many seats a typical week needs,
// per weekday and 30-minute interval, for a service-level goal (Erlang C over the measured
// arrivals and handling time, computed by the engine: GET /api/v1/staffing). Signs in like
// the board (sign-in.mjs); agents are told the page is for managers.
//
// The first question asks nothing, so the form starts from the API's defaults; a question the
// person submits is kept in the page's address (?target=0.9&threshold=10&weeks=4), so a
// reload or a shared link asks it again. An answer that arrives after a newer question was
// sent is dropped.
//
// The grid is a real <table> (weekday column headers, interval row headers, a peak row);
// one cell at a time is in the tab order and the arrow keys move between cells, and the
// cell pointed at or focused has its forecast spelled out in the line above the table.
//
// `window.madoguchiStaffing.state()` tells the end-to-end tests what the page shows.

import { formatCount, formatDuration, formatPercent, NONE } from './format.mjs';
import { createSession } from './session.mjs';
import { createSignIn } from './sign-in.mjs';
import { otherLanguage, storedLanguage, STORAGE_KEY, translate } from './staffing-i18n.mjs';
import { buildGrid, gridCsv, readWeek, spanDates, WEEKDAYS } from './staffing-grid.mjs';
import { formFromWeek, paramsFromSearch, queryString, readForm } from './staffing-query.mjs';

const FIELDS = {
  targetPercent: 'goal-target',
  thresholdS: 'goal-threshold',
  weeks: 'goal-weeks',
  ahtS: 'goal-aht',
};

const session = createSession();
const page = {
  lang: storedLanguage(),
  /** The question of the answer shown: the query string sent ('' for the API's defaults). */
  query: null,
  /** Whether that question gave the AHT (else the measured one was used). */
  ahtGiven: false,
  week: null,
  grid: null,
  /** 'idle', 'loading' or a message key of the last failure. */
  status: 'idle',
  errorText: '',
  answers: 0,
  focus: { row: 0, col: 0 },
  detail: null,
};
let asked = 0;
let csvUrl = null;

const $ = (id) => document.getElementById(id);
const t = (key, params) => translate(page.lang, key, params);
const gate = createSignIn({
  session,
  t,
  view: { name: 'staffing', id: 'staffing-view' },
  onSignedIn: () => ask(paramsFromSearch(window.location.search)),
  onSignedOut: () => {
    page.week = null;
    page.grid = null;
    renderWeek();
  },
});

function setField(name, text) {
  for (const element of document.querySelectorAll(`[data-field="${name}"]`)) {
    element.textContent = text;
  }
}

// ---- views ----

function applyLanguage() {
  document.documentElement.lang = page.lang;
  document.title = `madoguchi ${t('app.title')}`;
  for (const element of document.querySelectorAll('[data-i18n]')) {
    element.textContent = t(element.dataset.i18n);
  }
  $('lang-toggle').textContent = t('lang.toggle');
  gate.render();
  renderStatus();
  renderWeek();
}

// ---- session ----

function start() {
  applyLanguage();
  gate.start();
}

// ---- the question ----

/** Asks the API for the week under `params` (null: its defaults) and shows the answer. */
async function ask(params) {
  asked += 1;
  const mine = asked;
  const query = params ? queryString(params) : '';
  page.status = 'loading';
  renderStatus();
  let status = 0;
  let data = null;
  try {
    const response = await fetch(`/api/v1/staffing${query ? `?${query}` : ''}`, {
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
    });
    status = response.status;
    data = await response.json().catch(() => null);
  } catch {
    status = 0;
  }
  if (mine !== asked) return;
  if (status === 401) {
    page.status = 'idle';
    gate.expired();
    return;
  }
  if (status === 403) {
    page.status = 'idle';
    gate.forbidden();
    return;
  }
  const week = status === 200 ? readWeek(data) : null;
  if (!week) {
    page.status = failureKey(status);
    page.errorText = typeof data?.error === 'string' ? data.error : '';
    renderStatus();
    return;
  }
  page.status = 'idle';
  page.query = query;
  page.ahtGiven = params?.aht !== undefined;
  page.week = week;
  page.grid = buildGrid(week);
  page.answers += 1;
  fillForm(formFromWeek(week, params?.aht));
  renderStatus();
  renderWeek();
}

function failureKey(status) {
  if (status === 0) return 'form.error.network';
  if (status === 400) return 'form.error.rejected';
  if (status === 503) return 'form.error.unavailable';
  return 'form.error.answer';
}

function fillForm(values) {
  for (const [name, id] of Object.entries(FIELDS)) {
    $(id).value = values[name];
    $(id).removeAttribute('aria-invalid');
  }
}

function submitGoal(event) {
  event.preventDefault();
  const values = Object.fromEntries(
    Object.entries(FIELDS).map(([name, id]) => [name, $(id).value]),
  );
  for (const id of Object.values(FIELDS)) $(id).removeAttribute('aria-invalid');
  const read = readForm(values);
  if (!read.params) {
    page.status = read.error;
    page.errorText = '';
    renderStatus();
    const field = $(FIELDS[read.field]);
    field.setAttribute('aria-invalid', 'true');
    field.focus();
    return;
  }
  const url = new URL(window.location.href);
  url.search = queryString(read.params);
  window.history.replaceState(null, '', url);
  ask(read.params);
}

// ---- rendering ----

function renderStatus() {
  const submit = $('goal-submit');
  const loading = page.status === 'loading';
  submit.disabled = loading;
  submit.textContent = t(loading ? 'form.submitting' : 'form.submit');
  $('week-panel').setAttribute('aria-busy', String(loading));
  const error = $('goal-error');
  const failed = page.status !== 'idle' && !loading;
  error.hidden = !failed;
  if (failed) error.textContent = t(page.status, { message: page.errorText || NONE });
}

function goalText(week) {
  return t('summary.goal_value', { target: formatPercent1(week.target), s: week.thresholdS ?? NONE });
}

/** A target as a percent with a decimal only when it has one ("80%", "92.5%"). */
function formatPercent1(ratio) {
  if (ratio === null || !Number.isFinite(ratio)) return NONE;
  return `${Number((ratio * 100).toFixed(1))}%`;
}

function renderWeek() {
  const { week, grid } = page;
  updateCsv();
  $('week-panel').hidden = !grid || grid.empty;
  $('empty').hidden = !grid || !grid.empty;
  $('no-aht').hidden = !week || week.ahtS !== null || week.arrivals === 0;
  if (!week || !grid) {
    for (const name of ['goal', 'period', 'arrivals', 'handled', 'aht', 'peak']) setField(name, NONE);
    return;
  }
  const span = spanDates(week.from, week.to, week.timeZone);
  const dates = { first: span.first ?? NONE, last: span.last ?? NONE, weeks: week.weeks };
  setField('goal', goalText(week));
  setField('period', t('summary.period_value', { ...dates, tz: week.timeZone }));
  setField('arrivals', formatCount(week.arrivals));
  setField('handled', formatCount(week.handled));
  setField('aht', week.ahtS === null
    ? NONE
    : t(page.ahtGiven ? 'summary.aht_given' : 'summary.aht_measured', { aht: formatDuration(week.ahtS) }));
  setField('peak', t('summary.seats', { n: grid.maxAgents }));
  $('empty').textContent = t('empty', dates);
  if (grid.empty) return;

  $('week-caption').textContent = t('grid.caption', { goal: goalText(week) });
  const corner = document.createElement('th');
  corner.scope = 'col';
  corner.textContent = t('grid.interval');
  $('week-head').replaceChildren(corner, ...WEEKDAYS.map((day) => {
    const th = document.createElement('th');
    th.scope = 'col';
    th.className = 'num';
    const short = document.createElement('abbr');
    short.title = t(`weekday_long.${day}`);
    short.textContent = t(`weekday.${day}`);
    th.append(short);
    return th;
  }));
  const focus = clampFocus(page.focus, grid);
  page.focus = focus;
  $('week-rows').replaceChildren(...grid.rows.map((row, r) => {
    const tr = document.createElement('tr');
    tr.dataset.start = row.start;
    const label = document.createElement('th');
    label.scope = 'row';
    label.className = 'mono';
    label.textContent = `${row.start}–${row.end}`;
    tr.append(label, ...row.cells.map((cell, c) => {
      const td = document.createElement('td');
      td.className = `num mono seat${cell.peak ? ' peak' : ''}`;
      td.dataset.weekday = cell.weekday;
      td.dataset.start = row.start;
      td.dataset.shade = String(cell.shade);
      td.dataset.row = String(r);
      td.dataset.col = String(c);
      td.tabIndex = r === focus.row && c === focus.col ? 0 : -1;
      td.textContent = cell.agents === null ? NONE : String(cell.agents);
      td.title = detailText(cell, row);
      return td;
    }));
    return tr;
  }));
  const peakLabel = document.createElement('th');
  peakLabel.scope = 'row';
  peakLabel.textContent = t('grid.peak');
  $('week-peaks').replaceChildren(peakLabel, ...grid.peaks.map((peak) => {
    const td = document.createElement('td');
    td.className = 'num mono';
    td.dataset.weekday = peak.weekday;
    td.textContent = String(peak.agents);
    return td;
  }));
  showDetail(page.detail ? cellAt(page.detail.row, page.detail.col) : null);
}

function detailText(cell, row) {
  const params = {
    day: t(`weekday_long.${cell.weekday}`),
    interval: `${row.start}–${row.end}`,
    weeks: page.week?.weeks ?? NONE,
    arrivals: formatCount(cell.arrivals),
    per_hour: cell.arrivalsPerHour.toFixed(1),
  };
  if (cell.arrivals === 0) return t('grid.detail_idle', params);
  if (cell.agents === null) return t('grid.detail_unknown', params);
  return t('grid.detail', {
    ...params,
    agents: cell.agents,
    aht: formatDuration(cell.ahtS),
    sl: formatPercent(cell.serviceLevel),
    asa: formatDuration(cell.asaS),
    occupancy: formatPercent(cell.occupancy),
  });
}

function updateCsv() {
  const link = $('csv-download');
  if (csvUrl) URL.revokeObjectURL(csvUrl);
  csvUrl = null;
  if (!page.grid || page.grid.empty) {
    link.removeAttribute('href');
    return;
  }
  // With a byte-order mark, so Excel in Japan reads the UTF-8 as such.
  const blob = new Blob(['\uFEFF', csvText()], { type: 'text/csv;charset=utf-8' });
  csvUrl = URL.createObjectURL(blob);
  link.href = csvUrl;
  link.download = `staffing-${page.week.weeks}w.csv`;
}

function csvText() {
  if (!page.grid) return '';
  return gridCsv(page.grid, {
    interval: t('grid.interval'),
    weekdays: WEEKDAYS.map((day) => t(`weekday.${day}`)),
    peak: t('grid.peak'),
  });
}

// ---- moving through the grid ----

function clampFocus(focus, grid) {
  return {
    row: Math.min(Math.max(0, focus.row), Math.max(0, grid.rows.length - 1)),
    col: Math.min(Math.max(0, focus.col), WEEKDAYS.length - 1),
  };
}

function cellAt(row, col) {
  return $('week-rows').querySelector(`td[data-row="${row}"][data-col="${col}"]`);
}

function showDetail(td) {
  const line = $('detail');
  if (!td) {
    page.detail = null;
    line.textContent = t('grid.hint');
    line.classList.add('hint');
    return;
  }
  page.detail = { row: Number(td.dataset.row), col: Number(td.dataset.col) };
  line.textContent = td.title;
  line.classList.remove('hint');
}

const MOVES = {
  ArrowUp: [-1, 0],
  ArrowDown: [1, 0],
  ArrowLeft: [0, -1],
  ArrowRight: [0, 1],
};

function moveFocus(event) {
  const td = event.target.closest?.('td[data-row]');
  if (!td || !page.grid) return;
  let { row, col } = { row: Number(td.dataset.row), col: Number(td.dataset.col) };
  if (MOVES[event.key]) {
    row += MOVES[event.key][0];
    col += MOVES[event.key][1];
  } else if (event.key === 'Home') {
    col = 0;
  } else if (event.key === 'End') {
    col = WEEKDAYS.length - 1;
  } else {
    return;
  }
  event.preventDefault();
  const next = clampFocus({ row, col }, page.grid);
  const target = cellAt(next.row, next.col);
  if (target) target.focus();
}

/** Makes `td` the one cell of the table in the tab order (it has the focus, by key or click). */
function rove(td) {
  const previous = cellAt(page.focus.row, page.focus.col);
  if (previous && previous !== td) previous.tabIndex = -1;
  td.tabIndex = 0;
  page.focus = { row: Number(td.dataset.row), col: Number(td.dataset.col) };
}

// ---- wiring ----

function wire() {
  gate.wire();
  $('goal-form').addEventListener('submit', submitGoal);
  $('lang-toggle').addEventListener('click', () => {
    page.lang = otherLanguage(page.lang);
    try {
      window.localStorage.setItem(STORAGE_KEY, page.lang);
    } catch {
      // Not remembered; the toggle still works for this page.
    }
    applyLanguage();
  });
  const rows = $('week-rows');
  rows.addEventListener('keydown', moveFocus);
  rows.addEventListener('focusin', (event) => {
    const td = event.target.closest?.('td[data-row]');
    if (!td) return;
    rove(td);
    showDetail(td);
  });
  rows.addEventListener('pointerover', (event) => {
    const td = event.target.closest?.('td[data-row]');
    if (td) showDetail(td);
  });
}

window.madoguchiStaffing = {
  state: () => ({
    view: gate.view,
    user: gate.user,
    lang: page.lang,
    status: page.status,
    query: page.query,
    answers: page.answers,
    arrivals: page.week?.arrivals ?? null,
    rows: page.grid ? page.grid.rows.length : null,
    peaks: page.grid ? Object.fromEntries(page.grid.peaks.map((p) => [p.weekday, p.agents])) : null,
    empty: page.grid ? page.grid.empty : null,
  }),
  csv: csvText,
};

wire();
start();
