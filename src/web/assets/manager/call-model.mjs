// What the call page shows, worked out without a page: the call record of
// GET /api/v1/calls/{id} read into the facts, the classification and a timeline of labelled
// events, and GET /api/v1/calls/{id}/recording/meta read into one of a few recording states.
// Words come from a `t(key, params)` handed in (call-i18n.mjs's, for the page's language),
// times are shown in an explicit IANA time zone (the browser's on the page), so the same
// record reads the same in a test as in Tokyo.
//
//   const call = readCall(answer.data);                  // null: not a call record
//   const facts = factRows(call, { t, timeZone });       // [{key, label, value, personal?}]
//   const lines = timeline(call, { t, timeZone });       // [{kind, label, time, elapsed, detail}]
//   const rec = recordingView(metaAnswer);               // {state, playable, …}
//
// The caller's number is one of the facts (marked `personal`): the page shows it, nothing
// here logs it.

import { NONE } from './format.mjs';

/** The longest call id the page asks for (the engine's are far shorter). */
export const MAX_CALL_ID_CHARS = 200;

/** The call page of `callId` (what the board's complaint alerts link to). */
export function callPageHref(callId) {
  return `/manager/call.html?id=${encodeURIComponent(callId)}`;
}

/** The call id in the page's query string (`?id=…`), trimmed, or null when absent or unusable. */
export function callIdFromSearch(search) {
  let id;
  try {
    id = new URLSearchParams(search ?? '').get('id');
  } catch {
    return null;
  }
  const trimmed = (id ?? '').trim();
  if (!trimmed || [...trimmed].length > MAX_CALL_ID_CHARS) return null;
  return trimmed;
}

/** The most calls the list asks for at once (the API's page limit). */
export const MAX_LISTED_CALLS = 500;

/**
 * The call page listing the calls that ended `disposition` since `from` (an RFC 3339 instant,
 * optional): what the board's 「折り返し希望」 counter links to.
 */
export function callListHref({ disposition, from }) {
  const params = new URLSearchParams({ disposition });
  if (from) params.set('from', from);
  return `/manager/call.html?${params}`;
}

/**
 * The list filter in the page's query string (`?disposition=…&from=…`): {disposition, from}
 * (from null when absent), or null without a usable disposition. An unreadable `from` is
 * dropped rather than sent, so the server never answers 400 to a hand-edited link.
 */
export function listFilterFromSearch(search) {
  let params;
  try {
    params = new URLSearchParams(search ?? '');
  } catch {
    return null;
  }
  const disposition = (params.get('disposition') ?? '').trim();
  if (!/^[a-z_]{1,40}$/.test(disposition)) return null;
  const from = (params.get('from') ?? '').trim();
  return { disposition, from: from && !Number.isNaN(Date.parse(from)) ? from : null };
}

/** GET /api/v1/calls for a list filter, newest first, one page of MAX_LISTED_CALLS. */
export function callListUrl(filter) {
  const params = new URLSearchParams({ disposition: filter.disposition });
  if (filter.from) params.set('from', filter.from);
  params.set('per_page', String(MAX_LISTED_CALLS));
  return `/api/v1/calls?${params}`;
}

/**
 * The answer of GET /api/v1/calls as list rows: {id, href, arrived, caller, queue, waited},
 * the caller's number marked by the page as personal; records that do not read are left out.
 */
export function callListRows(data, { timeZone }) {
  const calls = Array.isArray(data?.calls) ? data.calls : [];
  return calls.map(readCall).filter(Boolean).map((call) => ({
    id: call.id,
    href: callPageHref(call.id),
    arrived: formatDateTime(call.arrivedAt, timeZone),
    caller: call.caller || NONE,
    queue: call.queue ?? NONE,
    waited: formatMs(call.waitedMs),
  }));
}

/** Milliseconds as "m:ss" ("h:mm:ss" from an hour on), cut to the whole second; null is "—". */
export function formatMs(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return NONE;
  const total = Math.floor(Math.max(0, ms) / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const ss = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * The ends of a paused span as {from, to} ("0:42", "1:05"): the start cut to its second, the
 * end raised to its second, so the span shown always covers the silence in the file.
 */
export function spanBounds(span) {
  const from = Number(span?.from_ms);
  const to = Number(span?.to_ms);
  if (!Number.isFinite(from) || !Number.isFinite(to)) return { from: NONE, to: NONE };
  return { from: formatMs(from), to: formatMs(Math.ceil(Math.max(from, to) / 1000) * 1000) };
}

/** A paused span as "0:42–1:05" (see spanBounds). */
export function formatSpan(span) {
  const { from, to } = spanBounds(span);
  return `${from}–${to}`;
}

/** The paused spans of a recording's metadata that make sense, in order. */
export function readSpans(paused) {
  if (!Array.isArray(paused)) return [];
  return paused
    .filter((s) => s && Number.isFinite(s.from_ms) && Number.isFinite(s.to_ms) && s.to_ms >= s.from_ms)
    .map((s) => ({ from_ms: s.from_ms, to_ms: s.to_ms }))
    .sort((a, b) => a.from_ms - b.from_ms);
}

function parts(value, timeZone, withDate) {
  const date = value instanceof Date ? value : new Date(value);
  if (value === null || value === undefined || Number.isNaN(date.getTime())) return null;
  const options = {
    hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZone,
  };
  if (withDate) Object.assign(options, { year: 'numeric', month: '2-digit', day: '2-digit' });
  let formatter;
  try {
    formatter = new Intl.DateTimeFormat('en-US', options);
  } catch {
    formatter = new Intl.DateTimeFormat('en-US', { ...options, timeZone: 'UTC' });
  }
  return Object.fromEntries(formatter.formatToParts(date).map((p) => [p.type, p.value]));
}

/** "2026-01-05 09:30:00" of an instant in `timeZone`, or "—" when it is not a date. */
export function formatDateTime(value, timeZone) {
  const p = parts(value, timeZone, true);
  return p ? `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}` : NONE;
}

/** "09:30:00" of an instant in `timeZone`, or "—". */
export function formatTime(value, timeZone) {
  const p = parts(value, timeZone, false);
  return p ? `${p.hour}:${p.minute}:${p.second}` : NONE;
}

const text = (value) => (typeof value === 'string' ? value : null);
const millis = (value) => (Number.isFinite(value) ? value : null);

/** A call record as the page uses it, or null when `data` is not one. */
export function readCall(data) {
  if (!data || typeof data !== 'object' || typeof data.id !== 'string' || !data.id) return null;
  if (Number.isNaN(Date.parse(data.arrived_at))) return null;
  const c = data.classification && typeof data.classification === 'object' ? data.classification : null;
  return {
    id: data.id,
    caller: text(data.caller) ?? '',
    called: text(data.called) ?? '',
    arrivedAt: data.arrived_at,
    answeredAt: text(data.answered_at),
    endedAt: text(data.ended_at),
    entry: text(data.entry),
    branch: text(data.branch),
    menuChoice: text(data.menu_choice),
    disposition: text(data.disposition) ?? '',
    hangupSide: text(data.hangup_side),
    hangupCause: text(data.hangup_cause),
    queue: text(data.queue),
    waitedMs: millis(data.waited_ms),
    operator: text(data.operator),
    connectedAt: text(data.connected_at),
    talkMs: millis(data.talk_ms),
    transferTarget: text(data.transfer_target),
    transferResult: text(data.transfer_result),
    nodeId: text(data.node_id) ?? '',
    events: Array.isArray(data.events)
      ? data.events.filter((e) => e && typeof e.kind === 'string')
        .slice()
        .sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0))
      : [],
    classification: c && typeof c.category === 'string'
      ? {
        category: c.category,
        outcome: text(c.outcome) ?? '',
        complaint: c.complaint === true,
        escalated: c.escalated === true,
        faqId: Number.isInteger(c.faq_id) ? c.faq_id : null,
        note: text(c.note),
        operator: text(c.operator) ?? '',
        revision: Number.isInteger(c.revision) ? c.revision : 1,
        updatedAt: text(c.updated_at),
      }
      : null,
  };
}

/** Whether the call is a complaint (its classification carries the flag). */
export function isComplaint(call) {
  return Boolean(call?.classification?.complaint);
}

/** `code` as words of `prefix.code` when `t` knows it (t returns the key for unknown ones). */
function wordsOf(t, prefix, code) {
  if (code === null || code === undefined || code === '') return '';
  const key = `${prefix}.${code}`;
  const words = t(key);
  return words === key ? String(code) : words;
}

/**
 * The facts of the call, in the order printed: {key, label, value}; the caller's number is
 * marked `personal`. Absent values show "—".
 */
export function factRows(call, { t, timeZone }) {
  const or = (value) => (value === null || value === undefined || value === '' ? NONE : value);
  const at = (value) => (value ? formatDateTime(value, timeZone) : NONE);
  const entry = call.entry || call.branch
    ? [call.entry, call.branch].filter(Boolean).join(' / ')
    : NONE;
  const transfer = call.transferTarget
    ? (call.transferResult
      ? t('facts.transfer_value', {
        target: call.transferTarget, result: wordsOf(t, 'result', call.transferResult),
      })
      : call.transferTarget)
    : NONE;
  const disposition = wordsOf(t, 'disposition', call.disposition);
  const rows = [
    ['id', call.id],
    ['arrived', at(call.arrivedAt)],
    ['caller', or(call.caller), true],
    ['called', or(call.called)],
    ['entry', entry],
    ['menu', or(call.menuChoice)],
    ['queue', or(call.queue)],
    ['waited', formatMs(call.waitedMs)],
    ['operator', or(call.operator)],
    ['connected', at(call.connectedAt)],
    ['talk', formatMs(call.talkMs)],
    ['disposition', or(disposition)],
    ['hangup', call.hangupSide ? wordsOf(t, 'hangup', call.hangupSide) : NONE],
    ['transfer', transfer],
    ['ended', at(call.endedAt)],
  ];
  return rows.map(([key, value, personal]) => ({
    key, label: t(`facts.${key}`), value: String(value), ...(personal ? { personal: true } : {}),
  }));
}

/** A number of milliseconds in an event's detail, as "m:ss", or null. */
function waited(detail) {
  return Number.isFinite(detail?.waited_ms) ? formatMs(detail.waited_ms) : null;
}

/** The detail of one event in words (never the raw JSON of an event the page knows). */
export function eventDetail(event, t) {
  const d = event.detail && typeof event.detail === 'object' ? event.detail : {};
  const has = (name) => d[name] !== null && d[name] !== undefined && d[name] !== '';
  switch (event.kind) {
    case 'routed':
      return has('entry') ? t('detail.entry_branch', { entry: d.entry, branch: d.branch ?? NONE }) : '';
    case 'play':
      return has('prompt') ? t('detail.prompt', { prompt: d.prompt }) : '';
    case 'dtmf':
      return has('digit') ? t('detail.digit', { digit: d.digit }) : '';
    case 'feature':
      return has('code') ? String(d.code) : '';
    case 'enqueued':
      return has('queue') ? t('detail.queue_priority', { queue: d.queue, priority: d.priority ?? 0 }) : '';
    case 'position_announced':
      if (!has('position')) return '';
      return Number.isFinite(d.wait_s)
        ? t('detail.position_wait', { position: d.position, wait: formatMs(d.wait_s * 1000) })
        : t('detail.position', { position: d.position });
    case 'offered':
    case 'connected':
      return has('operator') ? t('detail.operator', { operator: d.operator }) : '';
    case 'offer_result':
      return has('operator')
        ? t('detail.operator_result', { operator: d.operator, result: wordsOf(t, 'result', d.result) })
        : wordsOf(t, 'result', d.result);
    case 'queue_left':
      return t('detail.queue_left', {
        queue: d.queue ?? NONE, reason: wordsOf(t, 'reason', d.reason) || NONE, waited: waited(d) ?? NONE,
      });
    case 'abandoned':
      return waited(d) ? t('detail.waited', { waited: waited(d) }) : '';
    case 'overflowed':
      return t('detail.overflowed', { queue: d.queue ?? NONE, target: d.target ?? NONE });
    case 'transfer':
      return has('target') ? t('detail.target', { target: d.target }) : '';
    case 'transfer_progress':
      return has('status') ? t('detail.status', { status: d.status }) : '';
    case 'transfer_result':
      return has('status')
        ? t('detail.result_status', { result: wordsOf(t, 'result', d.result), status: d.status })
        : wordsOf(t, 'result', d.result);
    case 'transfer_refused':
      return has('refer_to') ? String(d.refer_to) : '';
    case 'reinvite':
      return typeof d.hold === 'boolean' ? t(d.hold ? 'detail.hold_on' : 'detail.hold_off') : '';
    case 'recording_decided':
      return wordsOf(t, 'decision', d.decision);
    case 'recording_started':
      return wordsOf(t, 'by', d.by);
    case 'recording_stopped':
      return wordsOf(t, 'cause', d.cause);
    case 'recording_failed':
      return t(d.disk_full ? 'detail.disk_full' : 'detail.io_error');
    case 'ended': {
      const disposition = wordsOf(t, 'disposition', d.disposition);
      return has('cause')
        ? t('detail.ended', { disposition: disposition || NONE, cause: wordsOf(t, 'cause', d.cause) })
        : disposition;
    }
    case 'invite':
    case 'answered':
    case 'hold':
    case 'resume':
    case 'recording_paused':
    case 'recording_resumed':
    case 'operator_hangup':
    case 'target_hangup':
    case 'sdp_rejected':
    case 'callback_requested':
      return '';
    default:
      // A kind the page does not know yet: its detail's plain values, as `name=value`.
      return Object.entries(d)
        .filter(([, value]) => value !== null && typeof value !== 'object')
        .map(([name, value]) => `${name}=${value}`)
        .join(' ');
  }
}

/** The label of an event kind; an unknown kind as itself. */
export function eventLabel(kind, t) {
  return wordsOf(t, 'event', kind);
}

/**
 * The call's events as timeline lines: {seq, kind, label, time, elapsed, detail}, `elapsed`
 * being "+m:ss" from the call's arrival.
 */
export function timeline(call, { t, timeZone }) {
  const arrived = Date.parse(call.arrivedAt);
  return call.events.map((event) => {
    const at = Date.parse(event.at);
    return {
      seq: event.seq,
      kind: event.kind,
      label: eventLabel(event.kind, t),
      time: formatTime(event.at, timeZone),
      elapsed: Number.isFinite(at) && Number.isFinite(arrived) ? `+${formatMs(at - arrived)}` : NONE,
      detail: eventDetail(event, t),
    };
  });
}

/**
 * The recording section's state from the answer to GET …/recording/meta ({status, data};
 * status 0: no answer):
 *
 * - `none`: the call was not recorded (404)
 * - `recording`: still being written (409 if played now)
 * - `missing`: recorded, but the file is not in the recordings folder
 * - `ready`: complete, with its file
 * - `interrupted`: cut short by an engine stop; the repaired file plays
 * - `failed`: writing failed; what was written plays (`failed_missing` when no file is left)
 * - `forbidden` (403), `unavailable` (anything else)
 *
 * `playable` says whether the page offers the player and the download.
 */
export function recordingView(answer) {
  const status = answer?.status ?? 0;
  if (status === 404) return { state: 'none', playable: false };
  if (status === 403) return { state: 'forbidden', playable: false };
  const data = answer?.data;
  if (status !== 200 || !data || typeof data.status !== 'string') {
    return { state: 'unavailable', playable: false };
  }
  const facts = {
    status: data.status,
    durationMs: millis(data.duration_ms),
    bytes: millis(data.bytes),
    sha256: text(data.sha256),
    startedAt: text(data.started_at),
    endedAt: text(data.ended_at),
    paused: readSpans(data.paused),
    error: text(data.error),
    filePresent: data.file_present === true,
  };
  let state;
  if (data.status === 'recording') state = 'recording';
  else if (data.status === 'failed') state = facts.filePresent ? 'failed' : 'failed_missing';
  else if (!facts.filePresent) state = 'missing';
  else if (data.status === 'interrupted') state = 'interrupted';
  else if (data.status === 'complete') state = 'ready';
  else state = 'unavailable';
  return { state, playable: ['ready', 'interrupted', 'failed'].includes(state), ...facts };
}

/** The recording's URL for the player, and for the download link. */
export function recordingHref(callId, { download = false } = {}) {
  const base = `/api/v1/calls/${encodeURIComponent(callId)}/recording`;
  return download ? `${base}?download=1` : base;
}

/** What the page says about a call it could not load: a message key for the status. */
export function callFailureKey(status) {
  if (status === 404) return 'state.not_found';
  if (status === 503) return 'state.unavailable';
  if (status === 0) return 'state.network';
  return 'state.answer';
}
