// A stand-in for the engine's HTTP side, for looking at the console and for the browser smoke
// test: it serves src/web/assets/agent/ at /agent, answers the /api/v1 calls the console
// makes with fixed data, and speaks the console protocol on /ws/agent from a script.
//
//   node tests/ui/fake-engine.mjs [--port 8090] [--scenario idle|offered|connected|wrapup|signin]
//     [--language en]
//   (signin: no session until one signs in with the password `secret`; --language: the
//   scenario's caller chose that language in the menu)
//   chromium --headless --screenshot=/tmp/agent.png --window-size=1280,720 http://127.0.0.1:8090/agent
//
// Not a model of the engine: it only lets the page reach each of its states. node:http and
// node:crypto only (the WebSocket framing is the few lines RFC 6455 needs for small text).

import { createServer } from 'node:http';
import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join, extname } from 'node:path';

const ASSETS = fileURLToPath(new URL('../../src/web/assets/agent/', import.meta.url));
const TYPES = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8' };
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const WAIT_LIMIT_MS = 10_000;

/** The Content-Security-Policy the engine sends with the page (src/web/assets.rs), so the
 * console is tried under the policy it will live with. */
async function enginePolicy() {
  const source = await readFile(fileURLToPath(new URL('../../src/web/assets.rs', import.meta.url)), 'utf8');
  const literal = source.match(/const CONTENT_SECURITY_POLICY: &str = "((?:[^"\\]|\\\n)*)";/);
  if (!literal) throw new Error('no CONTENT_SECURITY_POLICY in src/web/assets.rs');
  return literal[1].replace(/\\\n\s*/g, '');
}

export const CATEGORIES = [
  ['ア', 'マイナンバー制度全般'], ['イ', 'カードの申請'], ['ウ', 'カードの交付'], ['エ', '電子証明書'],
  ['オ', '紛失・暗証番号変更・券面記載事項変更・一時停止解除・返納'], ['カ', '健康保険証との紐づけ'],
  ['キ', '公金受取口座の登録'], ['ク', '市デジタル推進課マイナンバー係について'], ['ケ', 'その他'],
].map(([code, name]) => ({ code, name }));

const FAQ = [
  { id: 1, question: '暗証番号を忘れました', answer: '本人確認書類を持って市役所の窓口で再設定できます。', category: 'オ', uses: 42 },
  { id: 2, question: 'カードの申請方法を知りたい', answer: 'オンライン、郵送、証明写真機、窓口で申請できます。', category: 'イ', uses: 30 },
  { id: 3, question: '電子証明書の有効期限は？', answer: '発行日から5回目の誕生日までです。', category: 'エ', uses: 12 },
];

const OFFER = {
  type: 'offered', call_id: 'call-42', caller: '0467001234', queue: 'desk', waited_s: 37, menu_choice: '1',
};

/**
 * How the fake's calls are recorded, as the dialplan would decide: call-42 (the scenarios'
 * call) is recorded from the bridge, call-44 on demand, any other call not at all. The fake
 * answers `recording` actions by the engine's rules: start a call recorded on demand that is
 * not recording yet, pause a running recording, resume a paused one; else an `error`.
 */
const RECORDING_POLICY = { 'call-42': 'all', 'call-44': 'on_demand' };

/** Starts the fake on `port` (0: any); resolves to {url, close, received}. */
/**
 * Starts the fake on `port` (0: any). Resolves to:
 *   url, received (every console message, API write and {ws: 'open'}, in order),
 *   waitFor(predicate) → the first received item it accepts (now or within 10 s),
 *   push(message) → sends an engine message to every open console socket,
 *   close().
 */
export async function startFakeEngine({
  port = 0, scenario = 'offered', log = false, language = null,
} = {}) {
  const received = [];
  const arrivals = new EventEmitter();
  const sockets = new Set();
  const record = (item) => {
    received.push(item);
    // The message types only: the fake's caller numbers are made up, but habits carry over.
    if (log) console.log(`<- ${item.type ?? item.http ?? item.ws}`);
    arrivals.emit('item', item);
  };
  const session = { open: scenario !== 'signin' };
  /** call id → 'recording' | 'paused', for the calls being recorded. */
  const recordings = new Map();
  const policy = await enginePolicy();
  const server = createServer((req, res) => handle(req, res, { session, record, policy }));
  server.on('upgrade', (req, socket) => {
    if (!session.open) {
      socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    upgrade(req, socket, { scenario, language }, record, sockets, recordings);
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address();
  return {
    url: `http://127.0.0.1:${bound}`,
    received,
    waitFor(predicate, limitMs = WAIT_LIMIT_MS) {
      const found = received.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const check = (item) => {
          if (!predicate(item)) return;
          arrivals.off('item', check);
          clearTimeout(limit);
          resolve(item);
        };
        // A console that never sends it fails the test instead of hanging it.
        const limit = setTimeout(() => {
          arrivals.off('item', check);
          reject(new Error(`the fake engine never received: ${predicate}`));
        }, limitMs);
        arrivals.on('item', check);
      });
    },
    push(message) {
      for (const socket of sockets) socket.write(frame(JSON.stringify(message)));
    },
    /** Drops every console socket, as a network failure would. */
    dropConsoles() {
      for (const socket of sockets) socket.destroy();
    },
    /** Ends the session: API calls and sockets are refused from now on. */
    expireSession() {
      session.open = false;
      for (const socket of sockets) socket.destroy();
    },
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections?.();
      server.close(resolve);
    }),
  };
}

async function handle(req, res, { session, record, policy }) {
  const url = new URL(req.url, 'http://x');
  const path = url.pathname;
  const json = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };
  if (path === '/agent' || path === '/agent/' || path.startsWith('/agent/')) {
    const name = path === '/agent' || path === '/agent/' ? 'index.html' : path.slice('/agent/'.length);
    if (!/^[\w.-]+$/.test(name)) return json(404);
    try {
      const body = await readFile(join(ASSETS, name));
      const headers = { 'content-type': TYPES[extname(name)] ?? 'application/octet-stream', 'cache-control': 'no-cache' };
      if (name === 'index.html') headers['content-security-policy'] = policy;
      res.writeHead(200, headers);
      return res.end(body);
    } catch {
      return json(404);
    }
  }
  const body = await readBody(req);
  if (path === '/api/v1/session') {
    if (req.method === 'GET') return session.open ? json(200, { login: 'suzuki', role: 'agent' }) : json(401, { error: 'no session' });
    if (req.method === 'POST') {
      record({ http: 'sign_in', login: body?.login });
      if (body?.password !== 'secret') return json(401, { error: 'bad credentials' });
      session.open = true;
      return json(200, { login: body.login, role: 'agent' });
    }
    if (req.method === 'DELETE') {
      session.open = false;
      record({ http: 'sign_out' });
      return json(204);
    }
  }
  if (!session.open) return json(401, { error: 'no session' });
  if (path === '/api/v1/categories') return json(200, CATEGORIES);
  if (path === '/api/v1/faq') {
    const q = url.searchParams.get('q') ?? '';
    return json(200, FAQ.filter((e) => !q || e.question.includes(q) || e.answer.includes(q)));
  }
  if (path === '/api/v1/agents/me/calls') {
    return json(200, [
      { id: 'call-41', arrived_at: '2026-12-01T00:40:00Z', caller: '0312345678', disposition: 'answered', talk_ms: 184000, classification: null },
      { id: 'call-40', arrived_at: '2026-12-01T00:10:00Z', caller: '09011112222', disposition: 'transferred', talk_ms: 95000, classification: { category: 'イ', outcome: 'transferred_city' } },
    ]);
  }
  const classify = path.match(/^\/api\/v1\/calls\/([^/]+)\/classification$/);
  if (classify && req.method === 'POST') {
    record({ http: 'classification', call: decodeURIComponent(classify[1]), body });
    if (!CATEGORIES.some((c) => c.code === body?.category)) return json(422, { error: `category: ${JSON.stringify(body?.category)} is not a configured category`, field: 'category' });
    return json(201, { ok: true });
  }
  return json(404, { error: 'not found' });
}

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : null);
      } catch {
        resolve(null);
      }
    });
  });
}

function upgrade(req, socket, { scenario, language }, record, sockets, recordings) {
  if (new URL(req.url, 'http://x').pathname !== '/ws/agent') return socket.destroy();
  const accept = createHash('sha1').update(req.headers['sec-websocket-key'] + WS_GUID).digest('base64');
  socket.write(['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${accept}`, '', ''].join('\r\n'));
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  record({ ws: 'open' });
  const send = (message) => socket.write(frame(JSON.stringify(message)));
  const now = () => new Date().toISOString();
  const state = (name, reason = null) => send({ type: 'state', state: name, reason, since: now() });
  const recordingState = (callId, name) => send({ type: 'recording', call_id: callId, state: name });
  const bridged = (callId) => {
    send({ type: 'connected', call_id: callId });
    if (RECORDING_POLICY[callId] === 'all' && !recordings.has(callId)) recordings.set(callId, 'recording');
    // A socket that connects during the call (the connected scenario) is told too.
    if (recordings.has(callId)) recordingState(callId, recordings.get(callId));
  };
  const ended = (callId, reason) => {
    if (recordings.delete(callId)) recordingState(callId, 'stopped');
    send({ type: 'ended', call_id: callId, reason });
  };
  const recordingAction = ({ call_id: callId, action }) => {
    const current = recordings.get(callId);
    const allowed = {
      start: !current && RECORDING_POLICY[callId] !== undefined,
      pause: current === 'recording',
      resume: current === 'paused',
    }[action];
    if (!allowed) {
      send({ type: 'error', request: 'recording', message: `the recording cannot ${action} now` });
      return;
    }
    const next = action === 'pause' ? 'paused' : 'recording';
    recordings.set(callId, next);
    recordingState(callId, next);
  };

  const opening = { idle: 'available', offered: 'ringing', connected: 'on_call', wrapup: 'wrap_up' };
  send({ type: 'welcome', login: 'suzuki', state: opening[scenario] ?? 'available', reason: null, media: false });
  const offer = language ? { ...OFFER, menu_choice: '9', language } : OFFER;
  if (scenario === 'offered' || scenario === 'connected' || scenario === 'wrapup') send(offer);
  if (scenario === 'connected' || scenario === 'wrapup') bridged(OFFER.call_id);
  if (scenario === 'wrapup') ended(OFFER.call_id, 'ended');

  let buffer = Buffer.alloc(0);
  socket.on('data', (data) => {
    buffer = Buffer.concat([buffer, data]);
    for (;;) {
      const parsed = unframe(buffer);
      if (!parsed) break;
      buffer = buffer.subarray(parsed.length);
      if (parsed.opcode === 8) return socket.end();
      if (parsed.opcode !== 1) continue;
      let message;
      try {
        message = JSON.parse(parsed.text);
      } catch {
        continue;
      }
      record(message);
      switch (message.type) {
        case 'ping': send({ type: 'pong' }); break;
        case 'answer': bridged(message.call_id); state('on_call'); break;
        case 'decline': ended(message.call_id, 'withdrawn'); state('available'); break;
        case 'hangup':
        case 'transfer': ended(message.call_id, 'ended'); state('wrap_up'); break;
        case 'recording': recordingAction(message); break;
        case 'set_state': state(message.state, message.reason ?? null); break;
        case 'sign_out': socket.end(); break;
        default: break;
      }
    }
  });
  socket.on('error', () => {});
}

/** One unmasked text frame (server to client). */
function frame(text) {
  const payload = Buffer.from(text, 'utf8');
  let header;
  if (payload.length < 126) {
    header = Buffer.from([0x81, payload.length]);
  } else if (payload.length < 65536) {
    header = Buffer.alloc(4);
    header[0] = 0x81;
    header[1] = 126;
    header.writeUInt16BE(payload.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x81;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(payload.length), 2);
  }
  return Buffer.concat([header, payload]);
}

/** The first complete (masked, client to server) frame of `buffer`, or null. */
function unframe(buffer) {
  if (buffer.length < 2) return null;
  const opcode = buffer[0] & 0x0f;
  const masked = (buffer[1] & 0x80) !== 0;
  let length = buffer[1] & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buffer.length < 4) return null;
    length = buffer.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buffer.length < 10) return null;
    length = Number(buffer.readBigUInt64BE(2));
    offset = 10;
  }
  const maskLength = masked ? 4 : 0;
  if (buffer.length < offset + maskLength + length) return null;
  const mask = buffer.subarray(offset, offset + maskLength);
  const data = Buffer.from(buffer.subarray(offset + maskLength, offset + maskLength + length));
  if (masked) for (let i = 0; i < data.length; i += 1) data[i] ^= mask[i % 4];
  return { opcode, text: data.toString('utf8'), length: offset + maskLength + length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(`--${name}`);
    return i === -1 ? fallback : process.argv[i + 1];
  };
  const fake = await startFakeEngine({
    port: Number(arg('port', '8090')), scenario: arg('scenario', 'offered'), log: true,
    language: arg('language', null),
  });
  console.log(`listening ${fake.url}/agent`);
}
