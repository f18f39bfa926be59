// The console's state machine, kept free of the DOM, the network and the clock so it can be
// tested in node: `step(state, event, now)` returns the next state and the effects the shell
// (console.mjs) carries out. Events are the engine's messages (docs/console-protocol.md) as
// {type: 'server', message} and the console's own happenings (signed in, socket closed …).
//
// State:
//   session     'unknown' (not checked yet) | 'signed_out' | 'signed_in' | 'taken_over'
//   connection  'closed' | 'connecting' | 'open'
//   operator    {state, reason, since} as the engine reports it (since: ms, browser clock)
//   media       'none' | 'negotiating' | 'up' | 'failed'
//   call        null | {callId, caller, queue, waitedS, menuChoice, language, offeredAt, phase
//                ('offered' | 'connected' | 'ended'), answering, held, connectedAt, endedAt,
//                recording, monitored}
//   call.language  the language code the caller chose in the menu ("en"), or null for the
//                dialplan's default language (the engine sends null or nothing then).
//   call.languageFallback  'any' when that caller is offered to any operator because no
//                operator speaking its language answered in time; null otherwise.
//   call.recording  {state, pending, refused}: state is the engine's word for the call's
//                recording ('none' until it says one, 'recording' | 'paused' | 'stopped' |
//                'failed'); pending the action sent and not yet answered ('start' | 'pause' |
//                'resume'); refused the last action the engine refused (or 'other').
//   call.monitored  null, or how a manager is on the call: 'listen' | 'whisper' | 'barge'.
//   wrapup      null | {callId, caller, status ('editing' | 'saving' | 'saved')}
//   error       null | {request, message} (the engine's last refusal)
//   resume      null | {state: 'available' | 'paused', reason}: the status the person had
//               when the console reached a node that does not know it (another node after
//               a failover, a restarted engine); sent once the audio is up there.
//
// Effects: {type: 'start_media'}, {type: 'apply_media_answer', sdp}, {type: 'announce', key,
// params, urgent}, {type: 'focus_answer'}, {type: 'reset_wrapup_form'},
// {type: 'refresh_history'}, {type: 'stop_session'}, {type: 'send', message}.

export function initialState() {
  return {
    session: 'unknown',
    login: null,
    role: null,
    connection: 'closed',
    operator: { state: 'logged_out', reason: null, since: null },
    media: 'none',
    call: null,
    wrapup: null,
    error: null,
    resume: null,
  };
}

/** Operator states the engine reports. */
export const OPERATOR_STATES = [
  'logged_out', 'available', 'ringing', 'on_call', 'wrap_up', 'paused',
];

/** Pause reasons an operator can choose (the engine's no_answer is set by the engine only). */
export const PAUSE_REASONS = ['break', 'lunch', 'training', 'meeting'];

export function step(state, event, now) {
  switch (event.type) {
    case 'signed_in':
      return done({
        ...initialState(),
        session: 'signed_in',
        login: event.login ?? null,
        role: event.role ?? null,
      });
    case 'signed_out':
      return done({ ...initialState(), session: 'signed_out' }, [
        announce(event.expired ? 'announce.session_expired' : 'announce.signed_out'),
      ]);
    case 'socket_connecting':
      return done({ ...state, connection: 'connecting' });
    case 'socket_closed': {
      if (state.session !== 'signed_in') return done(state);
      // An answer to an offer sent on the closed socket can no longer arrive, nor the news
      // of a recording action sent on it.
      const media = state.media === 'negotiating' ? 'none' : state.media;
      const call = state.call?.recording.pending
        ? { ...state.call, recording: { ...state.call.recording, pending: null } }
        : state.call;
      return done({ ...state, connection: 'closed', media, call },
        state.connection === 'open' ? [announce('announce.disconnected')] : []);
    }
    case 'media_negotiating':
      return done({ ...state, media: 'negotiating' });
    case 'media_up': {
      // The node has this console's audio now, so it can take calls: back to the status
      // the person had chosen.
      const resume = state.resume;
      if (!resume) return done({ ...state, media: 'up' });
      const message = { type: 'set_state', state: resume.state };
      if (resume.reason) message.reason = resume.reason;
      return done({ ...state, media: 'up', resume: null }, [{ type: 'send', message }]);
    }
    case 'media_failed':
      return done({ ...state, media: 'failed' }, [announce('announce.media_failed', {}, true)]);
    case 'answer_requested':
      return done(updateCall(state, event.callId, (call) => ({ ...call, answering: true })));
    case 'hold_requested':
      return done(updateCall(state, event.callId, (call) => ({ ...call, held: Boolean(event.on) })));
    case 'recording_requested':
      if (!RECORDING_ACTIONS.includes(event.action)) return done(state);
      return done(updateCall(state, event.callId, (call) => ({
        ...call, recording: { ...call.recording, pending: event.action, refused: null },
      })));
    case 'wrapup_open':
      return openWrapupFromHistory(state, event);
    case 'wrapup_saving':
      return done(updateWrapup(state, event.callId, 'saving'));
    case 'wrapup_failed':
      return done(updateWrapup(state, event.callId, 'editing'));
    case 'wrapup_saved':
      return done(updateWrapup(state, event.callId, 'saved'), [
        announce('announce.wrapup_saved'),
        { type: 'refresh_history' },
      ]);
    case 'wrapup_closed':
      return done({ ...state, wrapup: null });
    case 'dismiss_error':
      return done({ ...state, error: null });
    case 'server':
      return onServerMessage(state, event.message ?? {}, now);
    default:
      return done(state);
  }
}

function onServerMessage(state, message, now) {
  if (state.session !== 'signed_in') return done(state);
  switch (message.type) {
    case 'welcome':
      return onWelcome(state, message, now);
    case 'state':
      return onOperatorState(state, message, now);
    case 'offered':
      return onOffered(state, message, now);
    case 'connected':
      return onConnected(state, message, now);
    case 'ended':
      return onEnded(state, message, now);
    case 'recording':
      return onRecording(state, message);
    case 'monitored':
      return onMonitored(state, message);
    case 'media_answer':
      if (typeof message.sdp !== 'string') return done(state);
      return done(state, [{ type: 'apply_media_answer', sdp: message.sdp }]);
    case 'taken_over':
      return done({ ...state, session: 'taken_over', connection: 'closed', call: null }, [
        { type: 'stop_session' },
        announce('announce.taken_over', {}, true),
      ]);
    case 'signed_out':
      // The session ended elsewhere (another tab signed out) or the audio is gone for good.
      return done({ ...initialState(), session: 'signed_out' }, [
        { type: 'stop_session' },
        announce('announce.signed_out'),
      ]);
    case 'error':
      return onError(state, message);
    default:
      // pong and types this console does not know yet.
      return done(state);
  }
}

function onWelcome(state, message, now) {
  const operator = operatorFrom(message, now, state.operator);
  // Logged out and without this console's audio: the node has never seen this console (a
  // standby after a failover, or the engine restarted), not a manager's log-out. The
  // status the person had is kept until the audio is up there.
  const unknownHere = operator.state === 'logged_out' && message.media !== true;
  const resume = unknownHere ? (statusToResume(state.operator) ?? state.resume) : null;
  let next = { ...state, connection: 'open', operator, error: null, resume };
  if (typeof message.login === 'string') next.login = message.login;
  const effects = [];
  // `media: true` says the engine holds an audio leg for this operator; it is this page's
  // only if this page set it up. A reloaded page or a second tab has none and offers its own
  // (the engine then hands the calls to it and the other console is taken over). An offer
  // still waiting for its answer on this socket is left to finish.
  const ownAudioUp = state.media === 'up' && message.media === true;
  if (!ownAudioUp && state.media !== 'negotiating') {
    next.media = 'negotiating';
    effects.push({ type: 'start_media' });
  }
  next = adoptWelcomeCall(next, message.call, operator.state, now, effects);
  next = resyncCall(next, operator.state, now);
  effects.push(announce('announce.connected'));
  return done(next, effects);
}

/**
 * The status to set again on a node that does not know this console: available (also when
 * a call was ringing, which the lost node took with it) or a pause the person chose. Not
 * after a call (the person decides when to take the next) nor the engine's no-answer pause.
 */
function statusToResume(operator) {
  if (operator.state === 'available' || operator.state === 'ringing') {
    return { state: 'available', reason: null };
  }
  if (operator.state === 'paused' && PAUSE_REASONS.includes(operator.reason)) {
    return { state: 'paused', reason: operator.reason };
  }
  return null;
}

/**
 * A welcome may carry the call in progress (`call`: the offered card's fields); a page that
 * was reloaded during a call learns it from there. Without it, a call this page never saw
 * stays unknown until the next one.
 */
function adoptWelcomeCall(state, card, operatorState, now, effects) {
  if (!card || typeof card !== 'object' || typeof card.call_id !== 'string') return state;
  if (state.call?.callId === card.call_id) {
    if (state.call.phase === 'ended') return state;
    // A recording that paused, resumed or started while the socket was down, and a manager
    // who joined, switched mode or left meanwhile (the welcome names the mode, or none).
    const recording = recordingFromCard(card);
    const monitored = monitoredFromCard(card);
    if (recording.state === 'none' && monitored === (state.call.monitored ?? null)) return state;
    return {
      ...state,
      call: {
        ...state.call,
        recording: recording.state === 'none' ? state.call.recording : recording,
        monitored,
      },
    };
  }
  const call = callFromCard(card, now);
  if (operatorState === 'on_call') {
    effects.push({ type: 'reset_wrapup_form' });
    return connect(state, call, now);
  }
  if (operatorState === 'ringing') return { ...state, call };
  return state;
}

/**
 * After a reconnect the welcome is all the console learns of what it missed: a call it still
 * shows that the operator's state no longer has is over.
 */
function resyncCall(state, operatorState, now) {
  const call = state.call;
  if (!call || call.phase === 'ended') return state;
  if (operatorState === 'on_call') {
    if (call.phase === 'offered' && call.answering) {
      return connect(state, call, now);
    }
    return state;
  }
  if (operatorState === 'ringing' && call.phase === 'offered') return state;
  if (call.phase === 'offered') return { ...state, call: null };
  return { ...state, call: endCall(call, now) };
}

/** The call is over: nothing of it is held or recorded any more. */
function endCall(call, now) {
  return {
    ...call, phase: 'ended', endedAt: now, held: false, recording: noRecording(), monitored: null,
  };
}

function onOperatorState(state, message, now) {
  if (typeof message.state !== 'string') return done(state);
  const operator = operatorFrom(message, now, state.operator);
  const ready = operator.state === 'available' || operator.state === 'ringing';
  // A filed classification and the finished call's card stay on screen until the operator
  // is ready for the next call.
  const wrapup = ready && state.wrapup?.status === 'saved' ? null : state.wrapup;
  const call = ready && state.call?.phase === 'ended' ? null : state.call;
  const changed = operator.state !== state.operator.state || operator.reason !== state.operator.reason;
  return done({ ...state, operator, wrapup, call },
    changed ? [announce('announce.state', { state: operator.state, reason: operator.reason })] : []);
}

function callFromCard(card, now) {
  return {
    callId: card.call_id,
    caller: typeof card.caller === 'string' ? card.caller : null,
    queue: typeof card.queue === 'string' ? card.queue : null,
    waitedS: Number.isFinite(card.waited_s) ? card.waited_s : 0,
    menuChoice: typeof card.menu_choice === 'string' ? card.menu_choice : null,
    language: languageOfCard(card),
    languageFallback: languageOfCard(card) && card.language_fallback === 'any' ? 'any' : null,
    offeredAt: now,
    phase: 'offered',
    answering: false,
    held: false,
    connectedAt: null,
    endedAt: null,
    recording: recordingFromCard(card),
    monitored: monitoredFromCard(card),
  };
}

/** A language code as the dialplan writes them (letters, digits and -), else the default. */
function languageOfCard(card) {
  const code = card.language;
  return typeof code === 'string' && /^[A-Za-z0-9-]{1,35}$/.test(code) ? code : null;
}

/** A welcome's call says how a manager is on it, if one is (an offer never does). */
function monitoredFromCard(card) {
  return MONITOR_MODES.includes(card.monitored) ? card.monitored : null;
}

/** A welcome's call says whether it is being recorded ("recording" | "paused"). */
function recordingFromCard(card) {
  return card.recording === 'recording' || card.recording === 'paused'
    ? { state: card.recording, pending: null, refused: null }
    : noRecording();
}

function onOffered(state, message, now) {
  if (typeof message.call_id !== 'string') return done(state);
  const call = callFromCard(message, now);
  const wrapup = state.wrapup?.status === 'saved' ? null : state.wrapup;
  // A caller in another language is said first: the operator may not speak it.
  const words = call.language
    ? announce(call.languageFallback ? 'announce.offered_language_fallback' : 'announce.offered_language', {
      waited: call.waitedS, menu: call.menuChoice ?? '', language: call.language,
    }, true)
    : announce('announce.offered', { waited: call.waitedS, menu: call.menuChoice ?? '' }, true);
  return done({ ...state, call, wrapup, error: null }, [
    words,
    { type: 'focus_answer' },
  ]);
}

function onConnected(state, message, now) {
  if (typeof message.call_id !== 'string') return done(state);
  const call = state.call?.callId === message.call_id
    ? state.call
    : callFromCard({ call_id: message.call_id }, now);
  return done(connect(state, call, now), [
    { type: 'reset_wrapup_form' },
    announce('announce.call_connected'),
  ]);
}

function connect(state, call, now) {
  return {
    ...state,
    call: { ...call, phase: 'connected', answering: false, connectedAt: now },
    wrapup: { callId: call.callId, caller: call.caller, status: 'editing' },
  };
}

function onEnded(state, message, now) {
  const call = state.call;
  if (!call || call.callId !== message.call_id) return done(state);
  if (call.phase === 'offered') {
    return done({ ...state, call: null }, [announce('announce.withdrawn')]);
  }
  if (call.phase === 'ended') return done(state);
  return done({ ...state, call: endCall(call, now) }, [
    announce('announce.call_ended'),
    { type: 'refresh_history' },
  ]);
}

/** How a manager can be on the operator's call (docs/console-protocol.md `monitored`). */
export const MONITOR_MODES = ['listen', 'whisper', 'barge'];

/**
 * A manager joined the call, switched mode, or left (`mode: null`): the operator must know
 * who else hears the call. News of another call, or of one already over, is stale.
 */
function onMonitored(state, message) {
  const call = state.call;
  if (!call || call.callId !== message.call_id || call.phase === 'ended') return done(state);
  const mode = MONITOR_MODES.includes(message.mode) ? message.mode : null;
  if (mode === null && message.mode !== null) return done(state);
  if (mode === (call.monitored ?? null)) return done(state);
  const next = { ...state, call: { ...call, monitored: mode } };
  return done(next, [
    announce(mode ? `announce.monitored.${mode}` : 'announce.monitor_ended', {}, true),
  ]);
}

/** The manager's presence the call card shows: a mode, or null (none, or not connected). */
export function monitorView(call) {
  if (!call || call.phase !== 'connected') return null;
  return call.monitored ?? null;
}

/** Recording actions the console sends. */
export const RECORDING_ACTIONS = ['start', 'pause', 'resume'];

/** Recording states the engine reports. */
export const RECORDING_STATES = ['recording', 'paused', 'stopped', 'failed'];

function noRecording() {
  return { state: 'none', pending: null, refused: null };
}

/**
 * The engine's word on the recording of the call this console shows (it may come just before
 * `connected`, as both are sent at the bridge). News of another call, or of one already over,
 * is stale.
 */
function onRecording(state, message) {
  const call = state.call;
  if (!call || call.callId !== message.call_id || call.phase === 'ended') return done(state);
  if (!RECORDING_STATES.includes(message.state)) return done(state);
  const before = call.recording.state;
  const recording = { state: message.state, pending: null, refused: null };
  const next = { ...state, call: { ...call, recording } };
  if (message.state === before) return done(next);
  return done(next, recordingAnnouncement(before, message.state));
}

function recordingAnnouncement(before, after) {
  switch (after) {
    case 'recording':
      return [announce(before === 'paused' ? 'announce.recording.resumed' : 'announce.recording.started')];
    case 'paused':
      return [announce('announce.recording.paused')];
    case 'failed':
      return [announce('announce.recording.failed', {}, true)];
    default:
      // 'stopped' comes with the end of the call, which is announced itself.
      return [];
  }
}

/**
 * A refused recording action is shown next to the recording controls, in the operator's
 * words ("この通話は録音できません"), not as the engine's message in the banner.
 */
function onRecordingRefused(state) {
  const call = state.call;
  if (!call) return done(state);
  const refused = call.recording.pending ?? 'other';
  const recording = { ...call.recording, pending: null, refused };
  return done({ ...state, call: { ...call, recording } }, [
    announce(`recording.refused.${refused}`, {}, true),
  ]);
}

function onError(state, message) {
  const request = typeof message.request === 'string' ? message.request : 'unknown';
  const text = typeof message.message === 'string' ? message.message : '';
  if (request === 'recording') return onRecordingRefused(state);
  let next = { ...state, error: { request, message: text } };
  if (next.call && request === 'answer') next.call = { ...next.call, answering: false };
  // Hold is shown as requested; a refusal puts the display back.
  if (next.call && request === 'hold') next.call = { ...next.call, held: !next.call.held };
  if (request === 'media_offer') next.media = 'failed';
  return done(next, [announce('announce.error', { message: text }, true)]);
}

function openWrapupFromHistory(state, event) {
  if (typeof event.callId !== 'string') return done(state);
  if (state.wrapup && state.wrapup.status !== 'saved' && state.wrapup.callId !== event.callId
      && state.call?.phase === 'connected') {
    // The form belongs to the call in progress; it is not given away.
    return done(state);
  }
  return done({
    ...state,
    wrapup: { callId: event.callId, caller: event.caller ?? null, status: 'editing' },
  }, [{ type: 'reset_wrapup_form' }]);
}

function operatorFrom(message, now, previous) {
  const stateName = typeof message.state === 'string' ? message.state : previous.state;
  const reason = typeof message.reason === 'string' ? message.reason : null;
  const parsed = typeof message.since === 'string' ? Date.parse(message.since) : NaN;
  // The engine's clock may run ahead of the browser's; a start in the future reads as now.
  let since = Number.isFinite(parsed) ? Math.min(parsed, now) : null;
  if (since === null) {
    since = stateName === previous.state && previous.since !== null ? previous.since : now;
  }
  return { state: stateName, reason, since };
}

function updateCall(state, callId, change) {
  if (!state.call || state.call.callId !== callId) return state;
  return { ...state, call: change(state.call) };
}

function updateWrapup(state, callId, status) {
  if (!state.wrapup || state.wrapup.callId !== callId) return state;
  return { ...state, wrapup: { ...state.wrapup, status } };
}

function announce(key, params = {}, urgent = false) {
  return { type: 'announce', key, params, urgent };
}

function done(state, effects = []) {
  return { state, effects };
}

// ---- views of the state the page renders ----

/** Which controls can be used now. */
export function controls(state) {
  const call = state.call;
  const live = state.session === 'signed_in' && state.connection === 'open';
  const offered = live && call?.phase === 'offered' && !call.answering;
  const talking = live && call?.phase === 'connected';
  const opState = state.operator.state;
  return {
    answer: offered,
    decline: offered,
    hold: talking,
    transfer: talking,
    hangup: talking,
    ...recordingControls(call, talking),
    mute: state.media === 'up' || state.media === 'negotiating',
    available: live && opState !== 'available' && opState !== 'ringing' && opState !== 'on_call',
    pause: live && opState !== 'ringing',
    saveWrapup: state.wrapup?.status === 'editing',
    useFaq: state.wrapup?.status === 'editing',
  };
}

/**
 * The recording controls: the toggle (pause or resume) while a recording runs, the start
 * while none does. The console does not know the dialplan's policy, so it offers the start
 * on every connected call without a recording and learns from a refusal; after one, or after
 * a failure (a full disk stays full), it is not offered again on that call.
 */
function recordingControls(call, talking) {
  const recording = call?.recording ?? noRecording();
  const running = recording.state === 'recording' || recording.state === 'paused';
  const idle = recording.state === 'none' || recording.state === 'stopped';
  const free = talking && recording.pending === null;
  return {
    recordingToggle: free && running,
    recordingStart: free && idle && recording.refused !== 'start',
  };
}

/**
 * What the call card shows of the recording: `status` ('recording' | 'paused' | 'failed' or
 * null: nothing is said of a call not recorded), the toggle's next action ('pause' |
 * 'resume' | null), whether the start button is there, and the refusal to explain (the
 * action refused, or null).
 */
export function recordingView(call) {
  const recording = call?.recording ?? noRecording();
  if (!call || call.phase !== 'connected') {
    return { status: null, toggle: null, start: false, refused: null };
  }
  const { state } = recording;
  const shown = state === 'recording' || state === 'paused' || state === 'failed';
  let toggle = null;
  if (state === 'recording') toggle = 'pause';
  if (state === 'paused') toggle = 'resume';
  return {
    status: shown ? state : null,
    toggle,
    start: (state === 'none' || state === 'stopped') && recording.refused !== 'start',
    refused: recording.refused,
  };
}

/**
 * The language badge of the call card: the caller's language code while a call is shown,
 * null for the default language (nothing is shown then).
 */
export function languageView(call) {
  return call?.language ?? null;
}

/**
 * 'any' when the call card's language caller came by the language's fallback (no operator
 * speaking it answered in time: the operator may well not speak it), else null.
 */
export function languageFallbackView(call) {
  return call?.language ? (call.languageFallback ?? null) : null;
}

/** Seconds the call card's timer shows: waiting time while offered, talk time after. */
export function callSeconds(call, now) {
  if (!call) return null;
  if (call.phase === 'offered') {
    const since = Number.isFinite(call.offeredAt) ? call.offeredAt : now;
    return call.waitedS + Math.max(0, Math.floor((now - since) / 1000));
  }
  if (!Number.isFinite(call.connectedAt)) return null;
  const end = call.phase === 'ended' && Number.isFinite(call.endedAt) ? call.endedAt : now;
  return Math.max(0, Math.floor((end - call.connectedAt) / 1000));
}
