// The operator console's shell: wires the page to the state machine (console-state.mjs),
// the engine's socket (socket.mjs), the API (api.mjs) and the audio (media.mjs).
// Every change goes through `dispatch`, which steps the state machine, carries out its
// effects and renders. Caller numbers and notes are personal data: nothing here logs them.
//
// For the browser test: window.madoguchi = { state(), lastMessage, remoteLevel(hz), dropSocket(),
// socketUrl(), failoverUrls() }.
//
// Failover: the console asks /api/v1/cluster for the other live nodes and its socket moves to
// them when its own node fails (socket.mjs). That needs the session cookie to reach the other
// node: it does when both nodes have one name (DNS, a VIP or a balancer; the list is then
// empty or unused) or one host with different ports. The API calls (wrap-up, FAQ, history)
// stay with the page's own node.

import { initialState, step, controls, recordingView } from './console-state.mjs';
import { keepSocket, failoverUrls } from './socket.mjs';
import { createApi, SessionExpired, ApiError } from './api.mjs';
import { createMedia } from './media.mjs';
import { createRinger } from './ringer.mjs';
import {
  translate, initialLanguage, otherLanguage, announcementText, STORAGE_KEY,
} from './i18n.mjs';
import { shortcutAction, focusKind } from './shortcuts.mjs';
import { validateWrapup, classificationPayload, fieldOfServerError } from './wrapup.mjs';
import {
  applyTranslations, render, renderOutcomes, renderCategories, renderHistory, renderFaq,
  renderDevices,
} from './view.mjs';

const FAQ_DEBOUNCE_MS = 300;
const FAQ_LIMIT = 10;
const METER_INTERVAL_MS = 100;
const CITY_LINE = 'city_line';
/** How often the list of other nodes is asked for again (a node started later joins it). */
const NODES_REFRESH_MS = 30_000;

const $ = (id) => document.getElementById(id);
const api = createApi();
const media = createMedia({ audioElement: $('remote-audio') });
const ringer = createRinger(() => media.audioContext());

let state = initialState();
let lang = initialLanguage(readStorage(STORAGE_KEY));
let socket = null;
/** The sockets of the other live nodes, for the socket's failover. */
let otherNodes = [];
let nodesTimer = null;
/** Bumped by every new offer, so a slower earlier one is dropped. */
let mediaGeneration = 0;
let pendingFocus = null;

/** What only the page knows: form state, loaded lists, the transfer sent. */
const ui = {
  signingIn: false,
  signInError: null,
  signInNotice: null,
  muted: false,
  transferSentFor: null,
  categories: [],
  faqChoice: null,
  faq: { status: 'idle', entries: [] },
  history: { status: 'idle', calls: [] },
  devices: { inputs: [], outputs: [] },
  output: '',
  wrapupErrors: {},
  wrapupFormError: null,
  lastMessage: null,
};

window.madoguchi = {
  state: () => ({ ...structuredClone(state), muted: ui.muted, lang }),
  get lastMessage() {
    return ui.lastMessage;
  },
  remoteLevel: (hz) => media.remoteLevel(hz),
  // For the browser test: the socket drops as on a network failure (the audio stays up).
  dropSocket: () => socket?.drop(),
  socketUrl: () => socket?.url() ?? null,
  failoverUrls: () => [...otherNodes],
};

function dispatch(event) {
  const result = step(state, event, Date.now());
  state = result.state;
  for (const effect of result.effects) runEffect(effect);
  refresh();
}

function refresh() {
  if (ui.transferSentFor && state.call?.callId !== ui.transferSentFor) ui.transferSentFor = null;
  render({ state, ui, lang, now: Date.now() });
  ringer.set(state.call?.phase === 'offered' && !state.call.answering);
  if (pendingFocus) {
    const element = $(pendingFocus);
    pendingFocus = null;
    if (element && !element.disabled && element.offsetParent !== null) element.focus();
  }
}

function runEffect(effect) {
  switch (effect.type) {
    case 'start_media':
      startMedia();
      break;
    case 'apply_media_answer':
      media.acceptAnswer(effect.sdp)
        .then(() => dispatch({ type: 'media_up' }))
        .catch(() => dispatch({ type: 'media_failed' }));
      break;
    case 'announce':
      announce(announcement(effect), effect.urgent);
      break;
    case 'focus_answer':
      // Not while the operator types (a note, a FAQ search): a space there must not answer.
      if (focusKind(document.activeElement) !== 'text') pendingFocus = 'answer';
      break;
    case 'reset_wrapup_form':
      resetWrapupForm();
      break;
    case 'refresh_history':
      loadHistory();
      break;
    case 'stop_session':
      endSession();
      break;
    case 'send':
      send(effect.message);
      break;
    default:
      break;
  }
}

function announcement(effect) {
  return announcementText(lang, effect.key, effect.params);
}

/** Texts waiting to be put in each live region; one step may announce several. */
const announcing = { 'live-polite': [], 'live-assertive': [] };

function announce(text, urgent) {
  const id = urgent ? 'live-assertive' : 'live-polite';
  const queue = announcing[id];
  queue.push(text);
  if (queue.length > 1) return;
  // Emptied first, so the same words twice are announced twice.
  $(id).textContent = '';
  setTimeout(() => {
    $(id).textContent = queue.join(' ');
    queue.length = 0;
  }, 50);
}

// ---- session ----

async function boot() {
  applyTranslations(lang);
  renderOutcomes(lang);
  refresh();
  try {
    const session = await api.currentSession();
    if (session) startConsole(session);
    else showSignIn(null);
  } catch {
    showSignIn('signin.error.network');
  }
}

function showSignIn(errorKey, noticeKey = null) {
  ui.signInError = errorKey;
  ui.signInNotice = noticeKey;
  dispatch({ type: 'signed_out' });
  pendingFocus = 'sign-in-login';
  refresh();
}

function startConsole(session) {
  ui.signInError = null;
  ui.signInNotice = null;
  ui.muted = false;
  media.setMuted(false);
  dispatch({ type: 'signed_in', login: session.login, role: session.role });
  renderDevices(ui.devices, { input: '', output: ui.output }, lang, media.canSelectOutput());
  loadCategories();
  loadHistory();
  searchFaq('');
  openSocket();
}

function ownSocketUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws/agent`;
}

/** Learns the other live nodes from the page's node; keeps what it knew when that fails. */
async function loadNodes() {
  try {
    otherNodes = failoverUrls(await api.cluster(), ownSocketUrl());
  } catch {
    // The page's node is down or too old to know the cluster: keep the last list.
  }
}

function openSocket() {
  loadNodes();
  if (nodesTimer === null) nodesTimer = setInterval(loadNodes, NODES_REFRESH_MS);
  socket = keepSocket({
    url: ownSocketUrl(),
    alternates: () => otherNodes,
    onMessage: (message) => {
      ui.lastMessage = message;
      // Nodes come and go: each greeting refreshes the list.
      if (message.type === 'welcome') loadNodes();
      dispatch({ type: 'server', message });
    },
    onStatus: (status) => {
      if (status === 'connecting') dispatch({ type: 'socket_connecting' });
      if (status === 'closed') dispatch({ type: 'socket_closed' });
    },
    // The socket is refused without a session, and the browser does not say why: ask.
    canReconnect: async () => {
      const session = await api.currentSession();
      if (!session) {
        expire();
        return false;
      }
      return true;
    },
  });
}

/** Stops the socket and the audio of this page (signed out, expired, taken over). */
function endSession() {
  if (socket) socket.stop();
  socket = null;
  if (nodesTimer !== null) clearInterval(nodesTimer);
  nodesTimer = null;
  mediaGeneration += 1;
  media.close();
  ringer.set(false);
}

function expire() {
  if (state.session !== 'signed_in') return;
  endSession();
  showSignIn(null, 'signin.expired');
  announce(translate(lang, 'announce.session_expired'), true);
}

/** Runs an API call; a 401 ends the session, other failures are the caller's. */
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

async function signIn(event) {
  event.preventDefault();
  const login = $('sign-in-login').value.trim();
  const password = $('sign-in-password').value;
  if (!login || !password) {
    ui.signInError = 'signin.error.required';
    refresh();
    return;
  }
  ui.signingIn = true;
  ui.signInError = null;
  refresh();
  try {
    const session = await api.signIn(login, password);
    $('sign-in-password').value = '';
    startConsole(session);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) ui.signInError = 'signin.error.bad_credentials';
    else if (error instanceof ApiError && error.status === 429) ui.signInError = 'signin.error.rate_limited';
    else ui.signInError = 'signin.error.network';
    pendingFocus = 'sign-in-password';
  } finally {
    ui.signingIn = false;
    refresh();
  }
}

async function signOut() {
  if (socket) socket.send({ type: 'sign_out' });
  endSession();
  try {
    await api.signOut();
  } catch {
    // The engine has ended the console already; the cookie expires on its own.
  }
  showSignIn(null, 'signin.signed_out');
}

// ---- media ----

async function startMedia() {
  mediaGeneration += 1;
  const generation = mediaGeneration;
  try {
    const sdp = await media.offer();
    if (generation !== mediaGeneration) return;
    loadDevices();
    // If the socket closed meanwhile, the next welcome starts over.
    if (socket) socket.send({ type: 'media_offer', sdp });
  } catch {
    if (generation === mediaGeneration) dispatch({ type: 'media_failed' });
  }
}

media.onFailure(() => dispatch({ type: 'media_failed' }));

async function loadDevices() {
  try {
    ui.devices = await media.devices();
  } catch {
    ui.devices = { inputs: [], outputs: [] };
  }
  renderDevices(ui.devices, { input: media.currentMicrophone(), output: ui.output }, lang,
    media.canSelectOutput());
}

function meterLoop() {
  if (state.session === 'signed_in') $('mic-level').value = media.micLevel();
  setTimeout(meterLoop, METER_INTERVAL_MS);
}

// ---- call controls ----

function send(message) {
  if (!socket || !socket.send(message)) return false;
  return true;
}

function answer() {
  const call = state.call;
  if (!call || !controls(state).answer) return;
  media.resume();
  dispatch({ type: 'answer_requested', callId: call.callId });
  send({ type: 'answer', call_id: call.callId });
}

function decline() {
  const call = state.call;
  if (!call || !controls(state).decline) return;
  send({ type: 'decline', call_id: call.callId });
}

function toggleHold() {
  const call = state.call;
  if (!call || !controls(state).hold) return;
  const on = !call.held;
  dispatch({ type: 'hold_requested', callId: call.callId, on });
  send({ type: 'hold', call_id: call.callId, on });
}

/** Pauses a running recording or resumes a paused one (button or F8). */
function toggleRecording() {
  const call = state.call;
  const action = recordingView(call).toggle;
  if (!call || !action || !controls(state).recordingToggle) return;
  requestRecording(call.callId, action);
}

function startRecording() {
  const call = state.call;
  if (!call || !controls(state).recordingStart) return;
  requestRecording(call.callId, 'start');
}

/** The display changes when the engine says so; until then the buttons wait. */
function requestRecording(callId, action) {
  if (send({ type: 'recording', call_id: callId, action })) {
    dispatch({ type: 'recording_requested', callId, action });
  }
}

function toggleMute() {
  ui.muted = !ui.muted;
  media.setMuted(ui.muted);
  refresh();
}

function transfer() {
  const call = state.call;
  if (!call || !controls(state).transfer || ui.transferSentFor === call.callId) return;
  // One click: the issue asks for the transfer in one click; the button is disabled once sent,
  // so a double click sends it once.
  if (send({ type: 'transfer', call_id: call.callId, target: CITY_LINE })) {
    ui.transferSentFor = call.callId;
    const checked = document.querySelector('input[name="outcome"]:checked');
    if (!checked) $('wu-outcome-transferred_city').checked = true;
  }
  refresh();
}

function hangup() {
  const call = state.call;
  if (!call || !controls(state).hangup) return;
  send({ type: 'hangup', call_id: call.callId });
}

function setAvailable() {
  send({ type: 'set_state', state: 'available' });
}

function setPaused() {
  send({ type: 'set_state', state: 'paused', reason: $('pause-reason').value });
}

function onKeyDown(event) {
  media.resume();
  const action = shortcutAction({
    key: event.key,
    repeat: event.repeat,
    focus: focusKind(document.activeElement),
    call: state.call,
  });
  if (!action) return;
  event.preventDefault();
  if (action === 'answer') answer();
  if (action === 'decline') decline();
  if (action === 'recording_toggle') toggleRecording();
}

// ---- wrap-up ----

function readWrapupForm() {
  return {
    category: $('wu-category').value,
    outcome: document.querySelector('input[name="outcome"]:checked')?.value ?? '',
    complaint: $('wu-complaint').checked,
    faqId: ui.faqChoice ? ui.faqChoice.id : null,
    note: $('wu-note').value,
  };
}

function resetWrapupForm() {
  $('wrapup-form').reset();
  ui.faqChoice = null;
  ui.wrapupErrors = {};
  ui.wrapupFormError = null;
  renderFaqNow();
  // Operators fill the form during the call: it takes the focus unless they are typing.
  if (focusKind(document.activeElement) !== 'text') pendingFocus = 'wu-category';
}

async function saveWrapup(event) {
  event.preventDefault();
  const wrapup = state.wrapup;
  if (!wrapup || wrapup.status !== 'editing') return;
  const form = readWrapupForm();
  const errors = validateWrapup(form, ui.categories.map((c) => c.code));
  ui.wrapupErrors = errors;
  ui.wrapupFormError = null;
  const firstInvalid = ['category', 'outcome', 'note'].find((field) => errors[field]);
  if (firstInvalid) {
    ui.wrapupFormError = translate(lang, 'wrapup.error.fix');
    pendingFocus = firstInvalid === 'outcome' ? 'wu-outcome-resolved_faq' : `wu-${firstInvalid}`;
    refresh();
    return;
  }
  const callId = wrapup.callId;
  dispatch({ type: 'wrapup_saving', callId });
  try {
    await guarded(() => api.fileClassification(callId, classificationPayload(form)));
    // A 401 has ended the session meanwhile.
    if (state.session !== 'signed_in') return;
    pendingFocus = 'wu-available';
    dispatch({ type: 'wrapup_saved', callId });
  } catch (error) {
    if (error instanceof ApiError && error.status === 422) {
      const field = formField(error.field) ?? fieldOfServerError(error.serverMessage);
      if (field && field !== 'complaint') ui.wrapupErrors = { [field]: error.serverMessage };
    }
    ui.wrapupFormError = error instanceof ApiError && error.serverMessage
      ? translate(lang, 'wrapup.error.server', { message: error.serverMessage })
      : translate(lang, 'wrapup.error.network');
    dispatch({ type: 'wrapup_failed', callId });
  }
}

/** The form field of a request field the server named. */
function formField(requestField) {
  return { category: 'category', outcome: 'outcome', note: 'note', faq_id: 'faq' }[requestField] ?? null;
}

function useFaqEntry(entry) {
  if (!controls(state).useFaq) return;
  ui.faqChoice = { id: entry.id, question: entry.question };
  const category = $('wu-category');
  if (!category.value && entry.category && ui.categories.some((c) => c.code === entry.category)) {
    category.value = entry.category;
    delete ui.wrapupErrors.category;
  }
  renderFaqNow();
  refresh();
}

// ---- lists ----

async function loadCategories() {
  try {
    const categories = await guarded(() => api.categories());
    if (!categories) return;
    ui.categories = categories;
    renderCategories(categories, lang);
  } catch {
    // The form still takes codes the server knows; it checks them.
  }
}

async function loadHistory() {
  ui.history = { ...ui.history, status: 'loading' };
  renderHistory(ui.history, lang, openWrapupFor);
  try {
    const calls = await guarded(() => api.myCalls());
    if (!calls) return;
    ui.history = { status: 'done', calls };
  } catch {
    ui.history = { ...ui.history, status: 'error' };
  }
  renderHistory(ui.history, lang, openWrapupFor);
}

function openWrapupFor(call) {
  dispatch({ type: 'wrapup_open', callId: call.id, caller: call.caller });
  pendingFocus = 'wu-category';
  refresh();
}

let faqTimer = null;
let faqRequest = null;

function scheduleFaqSearch() {
  clearTimeout(faqTimer);
  faqTimer = setTimeout(() => searchFaq($('faq-query').value), FAQ_DEBOUNCE_MS);
}

async function searchFaq(query) {
  if (faqRequest) faqRequest.abort();
  const request = new AbortController();
  faqRequest = request;
  ui.faq = { ...ui.faq, status: 'searching' };
  renderFaqNow();
  try {
    const entries = await guarded(() => api.searchFaq(query, FAQ_LIMIT, request.signal));
    if (request !== faqRequest || !entries) return;
    ui.faq = { status: 'done', entries };
  } catch (error) {
    if (request !== faqRequest || error?.name === 'AbortError') return;
    // An empty query the server does not take is not an error worth showing.
    ui.faq = { status: query.trim() ? 'error' : 'idle', entries: [] };
  }
  faqRequest = null;
  renderFaqNow();
}

function renderFaqNow() {
  renderFaq(ui.faq, lang, ui.faqChoice?.id ?? null, controls(state).useFaq, useFaqEntry);
}

// ---- language ----

function toggleLanguage() {
  lang = otherLanguage(lang);
  writeStorage(STORAGE_KEY, lang);
  applyTranslations(lang);
  renderOutcomes(lang);
  renderCategories(ui.categories, lang);
  renderHistory(ui.history, lang, openWrapupFor);
  renderFaqNow();
  renderDevices(ui.devices, { input: media.currentMicrophone(), output: ui.output }, lang,
    media.canSelectOutput());
  refresh();
}

function readStorage(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function writeStorage(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
}

// ---- wiring ----

$('sign-in-form').addEventListener('submit', signIn);
$('sign-out').addEventListener('click', signOut);
$('taken-over-again').addEventListener('click', () => location.reload());
$('lang-toggle').addEventListener('click', toggleLanguage);
$('engine-error-dismiss').addEventListener('click', () => dispatch({ type: 'dismiss_error' }));
$('go-available').addEventListener('click', setAvailable);
$('go-paused').addEventListener('click', setPaused);
$('answer').addEventListener('click', answer);
$('decline').addEventListener('click', decline);
$('hold').addEventListener('click', toggleHold);
$('mute').addEventListener('click', toggleMute);
$('transfer').addEventListener('click', transfer);
$('hangup').addEventListener('click', hangup);
$('recording-toggle').addEventListener('click', toggleRecording);
$('recording-start').addEventListener('click', startRecording);
$('media-retry').addEventListener('click', () => {
  dispatch({ type: 'media_negotiating' });
  startMedia();
});
$('mic-select').addEventListener('change', (event) => {
  media.selectMicrophone(event.target.value).catch(() => dispatch({ type: 'media_failed' }));
});
$('output-select').addEventListener('change', (event) => {
  ui.output = event.target.value;
  media.selectOutput(ui.output).catch(() => {});
});
$('wrapup-form').addEventListener('submit', saveWrapup);
$('wu-note').addEventListener('input', refresh);
// A field's error goes as soon as the field is changed; the rest stay until the next save.
$('wrapup-form').addEventListener('change', (event) => {
  const field = { 'wu-category': 'category', 'wu-note': 'note' }[event.target.id]
    ?? (event.target.name === 'outcome' ? 'outcome' : null);
  if (field && ui.wrapupErrors[field]) {
    delete ui.wrapupErrors[field];
    if (Object.keys(ui.wrapupErrors).length === 0) ui.wrapupFormError = null;
    refresh();
  }
});
$('wu-faq-clear').addEventListener('click', () => {
  ui.faqChoice = null;
  renderFaqNow();
  refresh();
});
$('wu-available').addEventListener('click', setAvailable);
$('wu-close').addEventListener('click', () => dispatch({ type: 'wrapup_closed' }));
$('history-refresh').addEventListener('click', loadHistory);
$('faq-query').addEventListener('input', scheduleFaqSearch);
document.addEventListener('keydown', onKeyDown);
document.addEventListener('pointerdown', () => media.resume(), { capture: true });
navigator.mediaDevices?.addEventListener?.('devicechange', loadDevices);
setInterval(refresh, 1000);
meterLoop();
boot();
