// The console's failover to another node (docs/continuity-design.md §3 "Consoles"): which
// node each reconnect attempt goes to (src/web/assets/agent/socket.mjs, backoff.mjs), the
// other nodes read from GET /api/v1/cluster (api.mjs), and the status the person had set
// again on a node that does not know the console (console-state.mjs).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { nextUrl } from '../../src/web/assets/agent/backoff.mjs';
import {
  keepSocket, socketUrlOf, failoverUrls,
} from '../../src/web/assets/agent/socket.mjs';
import { parseCluster, createApi } from '../../src/web/assets/agent/api.mjs';
import { initialState, step } from '../../src/web/assets/agent/console-state.mjs';

const A = 'ws://127.0.0.1:8081/ws/agent';
const B = 'ws://127.0.0.1:8082/ws/agent';
const C = 'ws://127.0.0.1:8083/ws/agent';

/** One-shot timers that run when the test says; intervals are never run. */
function manualTimers() {
  let next = 1;
  const pending = new Map();
  return {
    setTimeout(fn, ms) {
      const id = next++;
      pending.set(id, { fn, ms });
      return id;
    },
    clearTimeout(id) {
      pending.delete(id);
    },
    setInterval() {
      return next++;
    },
    clearInterval() {},
    delays() {
      return [...pending.values()].map((t) => t.ms);
    },
    async fire() {
      const due = [...pending.entries()];
      for (const [id, t] of due) {
        pending.delete(id);
        await t.fn();
      }
    },
  };
}

/** A WebSocket the test opens, greets and fails. */
function fakeSockets() {
  const opened = [];
  class FakeWebSocket {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      opened.push(this);
    }

    send() {}

    close() {
      if (this.readyState === 3) return;
      this.readyState = 3;
      this.onclose?.({});
    }

    greet() {
      this.readyState = 1;
      this.onopen?.({});
      this.onmessage?.({ data: JSON.stringify({ type: 'welcome', media: false }) });
    }
  }
  return { FakeWebSocket, opened };
}

function start(alternates) {
  const timers = manualTimers();
  const { FakeWebSocket, opened } = fakeSockets();
  const handle = keepSocket({
    url: A,
    alternates,
    onMessage: () => {},
    WebSocketImpl: FakeWebSocket,
    timers,
  });
  /** Fails the attempt in flight (refused, as by a dead node) and runs the retry. */
  async function failAttempt() {
    opened.at(-1).close();
    const delays = timers.delays();
    await timers.fire();
    return delays;
  }
  return { handle, timers, opened, failAttempt };
}

test('after the list the next node is the first again', () => {
  assert.equal(nextUrl([A, B, C], A), B);
  assert.equal(nextUrl([A, B, C], C), A);
  assert.equal(nextUrl([A, B], 'ws://gone/ws/agent'), A);
  assert.equal(nextUrl([], A), A);
});

test('a dropped node is retried once, then each failed attempt moves to the next node', async () => {
  const { opened, failAttempt } = start(() => [B, C]);
  opened[0].greet();
  await failAttempt(); // the greeted connection drops: A again
  for (let i = 0; i < 4; i += 1) await failAttempt();
  assert.deepEqual(opened.map((s) => s.url), [A, A, B, C, A, B]);
});

test('rotating keeps the backoff schedule', async () => {
  const { opened, failAttempt } = start(() => [B]);
  opened[0].greet();
  const waits = [];
  for (let i = 0; i < 5; i += 1) waits.push(...(await failAttempt()));
  assert.deepEqual(waits, [500, 1000, 2000, 4000, 8000]);
  assert.deepEqual(opened.map((s) => s.url), [A, A, B, A, B, A]);
});

test('greeted on another node, the console stays there and a drop retries that node first', async () => {
  const { handle, opened, failAttempt, timers } = start(() => [B, C]);
  opened[0].greet();
  await failAttempt();
  await failAttempt(); // A refused: B next
  opened.at(-1).greet();
  assert.equal(handle.url(), B);
  assert.equal(handle.attempt(), 0);
  opened.at(-1).close();
  assert.deepEqual(timers.delays(), [500]);
  await timers.fire();
  await failAttempt(); // B refused: C next
  assert.deepEqual(opened.map((s) => s.url), [A, A, B, B, C]);
});

test('with one node nothing rotates', async () => {
  const { opened, failAttempt } = start(() => []);
  opened[0].greet();
  for (let i = 0; i < 4; i += 1) await failAttempt();
  assert.deepEqual(opened.map((s) => s.url), [A, A, A, A, A]);
});

test('a node learnt after the start is used at the next failed attempt', async () => {
  let others = [];
  const { opened, failAttempt } = start(() => others);
  await failAttempt(); // never greeted, no other node: A again
  others = [B];
  await failAttempt();
  assert.deepEqual(opened.map((s) => s.url), [A, A, B]);
});

test('a list that throws or names the own node twice does not break the rotation', async () => {
  const throwing = start(() => {
    throw new Error('broken');
  });
  await throwing.failAttempt();
  assert.deepEqual(throwing.opened.map((s) => s.url), [A, A]);
  const doubled = start(() => [A, B, '', null]);
  await doubled.failAttempt();
  await doubled.failAttempt();
  assert.deepEqual(doubled.opened.map((s) => s.url), [A, B, A]);
});

const clusterAnswer = {
  node: 'a',
  nodes: [
    { node_id: 'a', http_url: 'http://127.0.0.1:8081', alive: true, silent_s: 0.2 },
    { node_id: 'b', http_url: 'https://b.example:8443', alive: true, silent_s: 1.1 },
    { node_id: 'c', http_url: 'http://127.0.0.1:8083', alive: false, silent_s: 40 },
    { node_id: 'd', http_url: null, alive: true, silent_s: 0.5 },
  ],
};

test('the other live nodes with an address are the failover sockets', () => {
  const cluster = parseCluster(clusterAnswer);
  assert.deepEqual(failoverUrls(cluster, A), ['wss://b.example:8443/ws/agent']);
  assert.deepEqual(failoverUrls(null, A), []);
  assert.equal(parseCluster({ nodes: [] }), null);
});

test('a node advertising the page\'s own address is not listed twice', () => {
  const cluster = parseCluster({
    node: 'a',
    nodes: [{ node_id: 'a2', http_url: 'http://127.0.0.1:8081/', alive: true }],
  });
  assert.deepEqual(failoverUrls(cluster, A), []);
});

test('a socket address comes only from an http or https address', () => {
  assert.equal(socketUrlOf('http://127.0.0.1:8082'), B);
  assert.equal(socketUrlOf('https://hotline.example/'), 'wss://hotline.example/ws/agent');
  assert.equal(socketUrlOf('ftp://x'), null);
  assert.equal(socketUrlOf('not a url'), null);
});

test('the cluster is asked for at /api/v1/cluster', async () => {
  const asked = [];
  const api = createApi(async (url) => {
    asked.push(url);
    return { status: 200, ok: true, text: async () => JSON.stringify(clusterAnswer) };
  });
  const cluster = await api.cluster();
  assert.deepEqual(asked, ['/api/v1/cluster']);
  assert.equal(cluster.nodes.length, 4);
  assert.deepEqual(cluster.nodes[1], { nodeId: 'b', httpUrl: 'https://b.example:8443', alive: true });
});

// ---- the status on a node that does not know the console ----

const T0 = Date.parse('2026-12-01T01:00:00Z');
const server = (message) => ({ type: 'server', message });
const welcome = (fields = {}) => server({
  type: 'welcome', login: 'suzuki', state: 'available', reason: null, media: false, ...fields,
});

function run(events) {
  let state = initialState();
  const effects = [];
  for (const event of events) {
    const result = step(state, event, T0);
    state = result.state;
    effects.push(...result.effects);
  }
  return { state, effects };
}

const sends = (effects) => effects.filter((e) => e.type === 'send').map((e) => e.message);
const signedIn = { type: 'signed_in', login: 'suzuki', role: 'agent' };
/** Up and available on the first node, then its socket drops. */
const availableThenDropped = [
  signedIn, welcome(), { type: 'media_up' }, { type: 'socket_closed' },
];

test('an available operator is made available again once the new node has the audio', () => {
  const greeted = run([...availableThenDropped, welcome({ state: 'logged_out', media: false })]);
  assert.deepEqual(sends(greeted.effects), [], 'nothing is sent before the audio is up there');
  assert.deepEqual(greeted.state.resume, { state: 'available', reason: null });
  const up = run([
    ...availableThenDropped, welcome({ state: 'logged_out', media: false }), { type: 'media_up' },
  ]);
  assert.deepEqual(sends(up.effects), [{ type: 'set_state', state: 'available' }]);
  assert.equal(up.state.resume, null);
});

test('a chosen pause is restored with its reason', () => {
  const { effects } = run([
    signedIn, welcome({ state: 'paused', reason: 'lunch' }), { type: 'media_up' },
    { type: 'socket_closed' }, welcome({ state: 'logged_out', media: false }),
    { type: 'media_up' },
  ]);
  assert.deepEqual(sends(effects), [{ type: 'set_state', state: 'paused', reason: 'lunch' }]);
});

test('the status survives a second drop before the audio is up on the new node', () => {
  const { effects } = run([
    ...availableThenDropped, welcome({ state: 'logged_out', media: false }),
    { type: 'socket_closed' }, welcome({ state: 'logged_out', media: false }),
    { type: 'media_up' },
  ]);
  assert.deepEqual(sends(effects), [{ type: 'set_state', state: 'available' }]);
});

test('a logged-out welcome from the node that holds the audio is a log-out, not a failover', () => {
  // A manager logged the operator out while the socket was down: the node still has the
  // console's audio leg, so it knows the console.
  const { effects, state } = run([
    ...availableThenDropped, welcome({ state: 'logged_out', media: true }), { type: 'media_up' },
  ]);
  assert.deepEqual(sends(effects), []);
  assert.equal(state.resume, null);
});

test('nothing is restored after a call, after the no-answer pause or on a first sign-in', () => {
  for (const before of [
    welcome({ state: 'on_call' }), welcome({ state: 'wrap_up' }),
    welcome({ state: 'paused', reason: 'no_answer' }), welcome({ state: 'logged_out' }),
  ]) {
    const { effects } = run([
      signedIn, before, { type: 'media_up' }, { type: 'socket_closed' },
      welcome({ state: 'logged_out', media: false }), { type: 'media_up' },
    ]);
    assert.deepEqual(sends(effects), [], JSON.stringify(before));
  }
  assert.deepEqual(sends(run([signedIn, welcome({ state: 'logged_out' }), { type: 'media_up' }]).effects), []);
});

test('a node that knows the operator\'s status cancels the pending restore', () => {
  const { effects } = run([
    ...availableThenDropped, welcome({ state: 'logged_out', media: false }),
    { type: 'socket_closed' }, welcome({ state: 'paused', reason: 'break', media: false }),
    { type: 'media_up' },
  ]);
  assert.deepEqual(sends(effects), []);
});
