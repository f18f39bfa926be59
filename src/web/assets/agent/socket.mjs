// The console's WebSocket to /ws/agent, kept open: after a drop it reconnects on the
// schedule of backoff.mjs until the engine greets it again, and it stops for good when the
// engine says `taken_over`, when `stop()` is called, or when `canReconnect()` says no (the
// session expired). A ping every PING_INTERVAL_MS finds a connection that died silently.
//
// The WebSocket class and the timers are passed in, so node tests can drive it.

import { reconnectDelay } from './backoff.mjs';

export const PING_INTERVAL_MS = 15_000;

/**
 * Opens the socket. Options:
 *   url            ws:// or wss:// address of /ws/agent
 *   onMessage(m)   every parsed message from the engine
 *   onStatus(s)    'connecting' | 'open' | 'closed'
 *   canReconnect() async; false stops reconnecting (e.g. the session is gone)
 *   WebSocketImpl, timers ({setTimeout, clearTimeout, setInterval, clearInterval})
 * Returns {send(message) → bool, stop(), attempt()}.
 */
export function keepSocket({
  url,
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

  function open() {
    if (stopped) return;
    onStatus('connecting');
    const ws = new WebSocketImpl(url);
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
      if (message.type === 'welcome') attempt = 0;
      if (message.type === 'taken_over' || message.type === 'signed_out') stopped = true;
      onMessage(message);
    };
    ws.onclose = () => {
      if (ws !== socket) return;
      socket = null;
      clearPing();
      onStatus('closed');
      if (!stopped) scheduleReconnect();
    };
    // An error is followed by close, which does the work.
    ws.onerror = () => {};
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
  return { send, stop, drop, attempt: () => attempt };
}
