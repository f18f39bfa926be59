// The live state the engine pushes (GET /api/v1/queues and its stream), read into what the
// board shows: waiting callers and the longest wait per queue, operators grouped by state,
// today's counts and figures. Times tick on the client: each snapshot carries the server's
// instant `at`, so a wait is "server now − since" with the browser's clock offset taken out.

import { callListHref } from './call-model.mjs';

/** The order operator states are listed in: the busy ones first, the absent last. */
export const STATE_ORDER = ['on_call', 'ringing', 'wrap_up', 'available', 'paused', 'logged_out'];

/**
 * A snapshot as the board uses it. `receivedMs` is the browser's clock when it arrived;
 * `offsetMs` is what to add to the browser's clock to get the server's.
 */
export function readSnapshot(data, receivedMs) {
  const at = Date.parse(data?.at);
  const offsetMs = Number.isFinite(at) ? at - receivedMs : 0;
  const queues = (Array.isArray(data?.queues) ? data.queues : []).map((queue) => ({
    name: String(queue.name ?? ''),
    label: typeof queue.label === 'string' && queue.label ? queue.label : String(queue.name ?? ''),
    waiting: (Array.isArray(queue.waiting) ? queue.waiting : []).map((w) => ({
      callId: String(w.call_id ?? ''),
      position: Number(w.position) || 0,
      sinceMs: Date.parse(w.since),
      menuChoice: typeof w.menu_choice === 'string' && w.menu_choice ? w.menu_choice : null,
      language: languageCode(w.language),
      ...readLanguageWait(w),
    })),
    available: Number(queue.operators_available) || 0,
    loggedIn: Number(queue.operators_logged_in) || 0,
  }));
  const operators = (Array.isArray(data?.operators) ? data.operators : []).map((op) => ({
    login: String(op.login ?? ''),
    state: String(op.state ?? 'logged_out'),
    reason: typeof op.reason === 'string' ? op.reason : null,
    sinceMs: Date.parse(op.since),
    phones: Number(op.phones) || 0,
    callId: typeof op.call_id === 'string' && op.call_id ? op.call_id : null,
  }));
  const today = {};
  for (const key of ['calls', 'offered', 'answered', 'abandoned', 'overflowed', 'transferred', 'callbacks']) {
    today[key] = Number(data?.today?.[key]) || 0;
  }
  // When the engine's day began: the counters' links list the records from there.
  const todaySince = typeof data?.today?.since === 'string' && !Number.isNaN(Date.parse(data.today.since))
    ? data.today.since
    : null;
  const board = data?.board ?? {};
  return {
    offsetMs,
    queues,
    operators,
    today,
    todaySince,
    thresholdS: Number(board.threshold_s) || 20,
    shortAbandonS: Number(board.short_abandon_s) || 5,
    figures: { today: readFigures(board.today), last30: readFigures(board.last_30_min) },
    intervals: (Array.isArray(board.intervals) ? board.intervals : []).map((i) => ({
      start: String(i.start ?? ''),
      offered: Number(i.offered) || 0,
      answered: Number(i.answered) || 0,
      abandoned: Number(i.abandoned) || 0,
    })),
    recordingFailure: readRecordingFailure(data),
    monitors: readMonitors(data),
  };
}

/**
 * Where the 「折り返し希望」 counter leads: the call page listing today's callback requests
 * (the people to call back), or null while there are none.
 */
export function callbacksHref(snapshot) {
  if (!(snapshot?.today?.callbacks > 0)) return null;
  return callListHref({ disposition: 'callback_requested', from: snapshot.todaySince });
}

/**
 * The recordings that could not be written since the engine started: null when none, else
 * how many, when the last one was and whether the disk was full (the board warns; calls
 * are answered all the same).
 */
export function readRecordingFailure(data) {
  const count = Number(data?.recording_failures) || 0;
  const last = data?.last_recording_failure;
  const atMs = Date.parse(last?.at);
  if (count <= 0 || !Number.isFinite(atMs)) return null;
  return { count, atMs, diskFull: last.disk_full === true };
}

function readFigures(figures) {
  const ratio = (value) => (typeof value === 'number' && Number.isFinite(value) ? value : null);
  return {
    offered: Number(figures?.offered) || 0,
    serviceLevel: ratio(figures?.service_level),
    asaS: ratio(figures?.asa_s),
    ahtS: ratio(figures?.aht_s),
    abandonRate: ratio(figures?.abandon_rate),
    answerRate: ratio(figures?.answer_rate),
  };
}

/**
 * A caller's language as the engine sends it: a dialplan code ("en"), or null for the
 * default language (sent as null or not at all). Anything else is not shown.
 */
export function languageCode(value) {
  return typeof value === 'string' && /^[A-Za-z0-9-]{1,35}$/.test(value) ? value : null;
}

/**
 * A language caller's wait for an operator who speaks it: `languageWaitS`, the seconds from
 * `since` only such operators are offered it (null without that wait), and
 * `languageFallback`, "any" once any operator is (null before).
 */
function readLanguageWait(w) {
  if (languageCode(w.language) === null) return { languageWaitS: null, languageFallback: null };
  const seconds = Number(w.language_wait_s);
  return {
    languageWaitS: Number.isFinite(seconds) && seconds > 0 ? seconds : null,
    languageFallback: w.language_fallback === 'any' ? 'any' : null,
  };
}

/**
 * What the board says of a language caller's wait at `waitS` seconds: null for a caller in
 * the default language (or one with no wait for a speaker); `{ state: 'speaker', waitedS,
 * afterS }` while only operators speaking its language are offered it (the wait shown
 * stops at `afterS`, the engine's fallback follows); `{ state: 'anyone' }` after.
 */
export function languageWaitState(caller, waitS) {
  if (!caller.language) return null;
  if (caller.languageFallback === 'any') return { state: 'anyone' };
  if (caller.languageWaitS === null) return null;
  return { state: 'speaker', waitedS: Math.min(waitS, caller.languageWaitS), afterS: caller.languageWaitS };
}

/**
 * Everyone waiting, one row each: the queues in their order, each in queue order (position
 * 1 first), with the queue's label, the wait on the server's clock and the language.
 */
export function waitingCallers(snapshot, nowMs) {
  return snapshot.queues.flatMap((queue) => queue.waiting.map((caller) => ({
    callId: caller.callId,
    queue: queue.name,
    queueLabel: queue.label,
    position: caller.position,
    sinceMs: caller.sinceMs,
    waitS: secondsSince(caller.sinceMs, nowMs, snapshot.offsetMs),
    language: caller.language,
    languageWaitS: caller.languageWaitS,
    languageFallback: caller.languageFallback,
  })));
}

/** Whole seconds from `sinceMs` to the server's now (the browser's `nowMs` plus the offset). */
export function secondsSince(sinceMs, nowMs, offsetMs = 0) {
  if (!Number.isFinite(sinceMs)) return 0;
  return Math.max(0, Math.floor((nowMs + offsetMs - sinceMs) / 1000));
}

/** Callers waiting in all queues, and the longest wait among them in seconds (0 if none). */
export function waitingSummary(snapshot, nowMs) {
  let waiting = 0;
  let longestS = 0;
  for (const queue of snapshot.queues) {
    waiting += queue.waiting.length;
    longestS = Math.max(longestS, queueLongestWait(queue, nowMs, snapshot.offsetMs));
  }
  return { waiting, longestS };
}

/** The longest wait in one queue, in seconds. */
export function queueLongestWait(queue, nowMs, offsetMs = 0) {
  return queue.waiting.reduce(
    (longest, caller) => Math.max(longest, secondsSince(caller.sinceMs, nowMs, offsetMs)),
    0,
  );
}

/**
 * The operators in [`STATE_ORDER`], longest in their state first within a state, and the
 * count of each state (every state present, zeros included).
 */
export function groupOperators(operators) {
  const rank = (state) => {
    const at = STATE_ORDER.indexOf(state);
    return at === -1 ? STATE_ORDER.length : at;
  };
  const sorted = [...operators].sort((a, b) => rank(a.state) - rank(b.state)
    || (a.sinceMs || 0) - (b.sinceMs || 0)
    || a.login.localeCompare(b.login));
  const counts = Object.fromEntries(STATE_ORDER.map((state) => [state, 0]));
  for (const op of operators) {
    counts[op.state] = (counts[op.state] ?? 0) + 1;
  }
  return { sorted, counts };
}

// ---- listen-in, whisper and barge ----
// A manager joins an operator's call from their own registered SIP phone: POST starts (the
// phone rings, then the live state shows the mode), PUT switches, DELETE leaves. Which
// buttons a row gets follows from the live state alone, so every board shows the same.

/** The ways to join a call, in the order the buttons are shown. */
export const MONITOR_MODES = ['listen', 'whisper', 'barge'];

/** The calls a manager is on: `mode` null while the manager's phone rings. */
export function readMonitors(data) {
  return (Array.isArray(data?.monitors) ? data.monitors : [])
    .filter((m) => typeof m?.call_id === 'string' && m.call_id)
    .map((m) => ({
      callId: m.call_id,
      operator: typeof m.operator === 'string' ? m.operator : null,
      by: String(m.monitored_by ?? ''),
      mode: MONITOR_MODES.includes(m.mode) ? m.mode : null,
    }));
}

/**
 * What an operator's row offers: null when there is nothing to monitor; else the call, the
 * manager on it (or null), the modes to start or switch to (`action` 'start' or 'switch';
 * none while the manager's phone rings) and whether it can be ended.
 */
export function monitorControls(operator, monitors) {
  const monitor = operator.callId
    ? monitors.find((m) => m.callId === operator.callId) ?? null
    : null;
  if (monitor) {
    return {
      callId: monitor.callId,
      monitor,
      action: 'switch',
      modes: monitor.mode ? MONITOR_MODES.filter((mode) => mode !== monitor.mode) : [],
      stop: true,
    };
  }
  if (operator.state !== 'on_call' || !operator.callId) return null;
  return { callId: operator.callId, monitor: null, action: 'start', modes: [...MONITOR_MODES], stop: false };
}

/** The HTTP request for `action` ('start', 'switch' or 'stop') on call `callId`. */
export function monitorRequest(callId, action, mode) {
  const path = `/api/v1/calls/${encodeURIComponent(callId)}/monitor`;
  if (action === 'stop') return { method: 'DELETE', path, body: undefined };
  if (!MONITOR_MODES.includes(mode)) throw new RangeError(`unknown monitor mode ${mode}`);
  return { method: action === 'start' ? 'POST' : 'PUT', path, body: { mode } };
}

/**
 * The message key for a refused monitor request (`status` 0: no answer at all), from the
 * status and the server's reason (the 409 reasons are the engine's fixed English words).
 */
export function monitorFailureKey(status, reason) {
  const text = typeof reason === 'string' ? reason : '';
  if (status === 409) {
    if (text.includes('no registered phone')) return 'monitor.error.no_phone';
    if (text.includes('already monitored')) return 'monitor.error.already';
    if (text.includes('not with an operator')) return 'monitor.error.not_with_operator';
    if (text.includes('nobody monitors')) return 'monitor.error.not_monitored';
    return 'monitor.error.conflict';
  }
  if (status === 404) return 'monitor.error.gone';
  if (status === 401) return 'monitor.error.session';
  if (status === 403) return 'monitor.error.forbidden';
  if (status === 0) return 'monitor.error.network';
  return 'monitor.error.other';
}
