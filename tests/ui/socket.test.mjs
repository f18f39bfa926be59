// The console's WebSocket: reconnect schedule, reset on a greeting, no reconnect after
// taken_over or an expired session, ping keep-alive (src/web/assets/agent/socket.mjs).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { reconnectDelay } from '../../src/web/assets/agent/backoff.mjs';
import { keepSocket, PING_INTERVAL_MS } from '../../src/web/assets/agent/socket.mjs';

test('the reconnect delays double from 0.5 s and stay at 10 s', () => {
  const delays = Array.from({ length: 9 }, (_, attempt) => reconnectDelay(attempt));
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 10000, 10000, 10000, 10000]);
  assert.equal(reconnectDelay(1e6), 10000);
  assert.equal(reconnectDelay(-1), 500);
});

/** Timers that run only when the test says so. */
function manualTimers() {
  let next = 1;
  const pending = new Map();
  return {
    setTimeout(fn, ms) {
      const id = next++;
      pending.set(id, { fn, ms, repeat: false });
      return id;
    },
    clearTimeout(id) {
      pending.delete(id);
    },
    setInterval(fn, ms) {
      const id = next++;
      pending.set(id, { fn, ms, repeat: true });
      return id;
    },
    clearInterval(id) {
      pending.delete(id);
    },
    delays() {
      return [...pending.values()].filter((t) => !t.repeat).map((t) => t.ms);
    },
    /** Runs the one-shot timers that are due now; returns how many ran. */
    async fireTimeouts() {
      const due = [...pending.entries()].filter(([, t]) => !t.repeat);
      for (const [id, t] of due) {
        pending.delete(id);
        await t.fn();
      }
      return due.length;
    },
    async fireIntervals() {
      for (const t of [...pending.values()].filter((x) => x.repeat)) await t.fn();
    },
  };
}

/** A WebSocket the test opens, closes and talks through. */
function fakeSockets() {
  const opened = [];
  class FakeWebSocket {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.sent = [];
      opened.push(this);
    }

    send(text) {
      this.sent.push(JSON.parse(text));
    }

    close() {
      if (this.readyState === 3) return;
      this.readyState = 3;
      this.onclose?.({});
    }

    serverOpens() {
      this.readyState = 1;
      this.onopen?.({});
    }

    serverSays(message) {
      this.onmessage?.({ data: JSON.stringify(message) });
    }
  }
  return { FakeWebSocket, opened };
}

function start(options = {}) {
  const timers = manualTimers();
  const { FakeWebSocket, opened } = fakeSockets();
  const messages = [];
  const statuses = [];
  const handle = keepSocket({
    url: 'ws://127.0.0.1/ws/agent',
    onMessage: (m) => messages.push(m),
    onStatus: (s) => statuses.push(s),
    WebSocketImpl: FakeWebSocket,
    timers,
    ...options,
  });
  return { handle, timers, opened, messages, statuses };
}

test('messages from the engine are parsed and passed on', () => {
  const { opened, messages } = start();
  opened[0].serverOpens();
  opened[0].serverSays({ type: 'welcome', media: false });
  assert.deepEqual(messages, [{ type: 'welcome', media: false }]);
});

test('a dropped socket is reopened after 0.5 s, then 1 s, then 2 s', async () => {
  const { timers, opened } = start();
  const waits = [];
  for (let i = 0; i < 3; i += 1) {
    opened.at(-1).close();
    waits.push(...timers.delays());
    await timers.fireTimeouts();
  }
  assert.deepEqual(waits, [500, 1000, 2000]);
  assert.equal(opened.length, 4);
});

test('a greeting restarts the schedule from 0.5 s', async () => {
  const { timers, opened } = start();
  opened[0].close();
  await timers.fireTimeouts();
  opened[1].close();
  await timers.fireTimeouts();
  opened[2].serverOpens();
  opened[2].serverSays({ type: 'welcome', media: true });
  opened[2].close();
  assert.deepEqual(timers.delays(), [500]);
});

test('after taken_over the socket is not reopened', async () => {
  const { timers, opened } = start();
  opened[0].serverOpens();
  opened[0].serverSays({ type: 'taken_over' });
  opened[0].close();
  assert.equal(await timers.fireTimeouts(), 0);
  assert.equal(opened.length, 1);
});

test('an expired session stops the reconnecting', async () => {
  const { timers, opened } = start({ canReconnect: async () => false });
  opened[0].close();
  await timers.fireTimeouts();
  assert.equal(opened.length, 1);
  assert.equal(await timers.fireTimeouts(), 0);
});

test('a failed session check (server down) keeps trying', async () => {
  const { timers, opened } = start({
    canReconnect: async () => {
      throw new Error('network');
    },
  });
  opened[0].close();
  await timers.fireTimeouts();
  assert.equal(opened.length, 2);
});

test('stop closes the socket and cancels a pending reconnect', async () => {
  const { handle, timers, opened } = start();
  opened[0].close();
  handle.stop();
  assert.equal(await timers.fireTimeouts(), 0);
  assert.equal(opened.length, 1);
});

test('send works only on an open socket', () => {
  const { handle, opened } = start();
  assert.equal(handle.send({ type: 'ping' }), false);
  opened[0].serverOpens();
  assert.equal(handle.send({ type: 'answer', call_id: 'c1' }), true);
  assert.deepEqual(opened[0].sent, [{ type: 'answer', call_id: 'c1' }]);
});

test('a ping goes out every interval and a silent connection is closed and reopened', async () => {
  const { timers, opened, statuses } = start();
  opened[0].serverOpens();
  await timers.fireIntervals();
  assert.deepEqual(opened[0].sent, [{ type: 'ping' }]);
  // No pong within the next interval: the connection is given up.
  await timers.fireIntervals();
  assert.equal(opened[0].readyState, 3);
  assert.equal(statuses.at(-1), 'closed');
  assert.deepEqual(timers.delays(), [500]);
  assert.ok(PING_INTERVAL_MS > 0);
});

test('a pong keeps the connection', async () => {
  const { timers, opened } = start();
  opened[0].serverOpens();
  await timers.fireIntervals();
  opened[0].serverSays({ type: 'pong' });
  await timers.fireIntervals();
  assert.equal(opened[0].readyState, 1);
  assert.equal(opened[0].sent.length, 2);
});
