// The console's WebSocket to /ws/agent, kept open: after a drop it reconnects on the
// schedule of backoff.mjs until the engine greets it again, and it stops for good when the
// engine says `taken_over`, when `stop()` is called, or when `canReconnect()` says no (the
// session expired). A ping every PING_INTERVAL_MS finds a connection that died silently.
//
// Several nodes: `alternates()` names the other live nodes' sockets. A connection that was
// greeted and drops is retried on the same node first (a blip, a restart); every attempt
// that fails before a greeting moves on to the next node, on the same schedule, and after
// the last comes back to the first. With one node nothing rotates.
//
// The WebSocket class and the timers are passed in, so node tests can drive it.

import { reconnectDelay, nextUrl } from './backoff.mjs';

export const PING_INTERVAL_MS = 15_000;

/** The console socket's address on the node whose web address is `httpUrl`, or null. */
export function socketUrlOf(httpUrl) {
  let parsed;
  try {
    parsed = new URL(httpUrl);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  const scheme = parsed.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${parsed.host}/ws/agent`;
}

/**
 * The sockets of the other live nodes of a cluster answer (`parseCluster` in api.mjs),
 * leaving out the answering node and `ownUrl` (how this page reaches its node).
 */
export function failoverUrls(cluster, ownUrl) {
  if (!cluster) return [];
  return cluster.nodes
    .filter((node) => node.alive && node.nodeId !== cluster.node)
    .map((node) => socketUrlOf(node.httpUrl))
    .filter((socketUrl) => socketUrl && socketUrl !== ownUrl);
}

/**
 * Opens the socket. Options:
 *   url            ws:// or wss:// address of /ws/agent on the page's own node
 *   alternates()   ws:// or wss:// addresses of the other live nodes (read at each attempt)
 *   onMessage(m)   every parsed message from the engine
 *   onStatus(s)    'connecting' | 'open' | 'closed'
 *   canReconnect() async; false stops reconnecting (e.g. the session is gone)
 *   WebSocketImpl, timers ({setTimeout, clearTimeout, setInterval, clearInterval})
 * Returns {send(message) → bool, stop(), drop(), attempt(), url()}.
 */
export function keepSocket({
  url,
  alternates = () => [],
  onMessage,
  onStatus = () => {},
  canReconnect = async () => true,
  WebSocketImpl = globalThis.WebSocket,
  timers = globalThis,
}) {
  let socket = null;
  let attempt = 0;
  let stopped = false;
  let retryTimer = null;
  let pingTimer = null;
  let heardSincePing = true;
  /** The node the current (or next) attempt goes to. */
  let target = url;
  /** Whether the current connection was greeted: a drop then is no failed attempt. */
  let greeted = false;

  function open() {
    if (stopped) return;
    onStatus('connecting');
    greeted = false;
    const ws = new WebSocketImpl(target);
    socket = ws;
    ws.onopen = () => {
      if (ws !== socket) return;
      onStatus('open');
      heardSincePing = true;
      pingTimer = timers.setInterval(keepAlive, PING_INTERVAL_MS);
    };
    ws.onmessage = (event) => {
      if (ws !== socket) return;
      heardSincePing = true;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!message || typeof message !== 'object') return;
      // Greeted: the next drop starts the schedule from its first step again.
      if (message.type === 'welcome') {
        attempt = 0;
        greeted = true;
      }
      if (message.type === 'taken_over' || message.type === 'signed_out') stopped = true;
      onMessage(message);
    };
    ws.onclose = () => {
      if (ws !== socket) return;
      socket = null;
      clearPing();
      onStatus('closed');
      if (!greeted) target = nextUrl(nodes(), target);
      if (!stopped) scheduleReconnect();
    };
    // An error is followed by close, which does the work.
    ws.onerror = () => {};
  }

  /** The page's own node first, then the others, each once. */
  function nodes() {
    let others = [];
    try {
      others = alternates() ?? [];
    } catch {
      others = [];
    }
    return [...new Set([url, ...others.filter((u) => typeof u === 'string' && u)])];
  }

  function keepAlive() {
    if (!socket) return;
    if (!heardSincePing) {
      // Nothing for a whole interval, not even a pong: the connection is dead.
      socket.close();
      return;
    }
    heardSincePing = false;
    send({ type: 'ping' });
  }

  function clearPing() {
    if (pingTimer !== null) timers.clearInterval(pingTimer);
    pingTimer = null;
  }

  function scheduleReconnect() {
    const delay = reconnectDelay(attempt);
    attempt += 1;
    retryTimer = timers.setTimeout(async () => {
      retryTimer = null;
      if (stopped) return;
      let allowed = true;
      try {
        allowed = await canReconnect();
      } catch {
        // Could not tell (the server is down): keep trying.
        allowed = true;
      }
      if (stopped) return;
      if (allowed) open();
      else stopped = true;
    }, delay);
  }

  function send(message) {
    if (!socket || socket.readyState !== 1) return false;
    socket.send(JSON.stringify(message));
    return true;
  }

  function stop() {
    stopped = true;
    if (retryTimer !== null) timers.clearTimeout(retryTimer);
    retryTimer = null;
    clearPing();
    const ws = socket;
    socket = null;
    if (ws) ws.close();
  }

  /** Closes the current connection as a network failure would: the schedule reconnects. */
  function drop() {
    if (socket) socket.close();
  }

  open();
  return { send, stop, drop, attempt: () => attempt, url: () => target };
}
