// The board's waiting callers in a real headless Chromium: a stand-in for the engine serves
// src/web/assets/manager/, a manager's session and one live state on the SSE stream, with an
// English caller and a default-language caller waiting. The English one carries a badge,
// the other none; the waits tick. Screenshots go to $UI_SCREENSHOT_DIR (default: the temp dir).
// Skipped when chromium or chromedriver is not installed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { findExecutable, startDriver, openBrowser } from './webdriver.mjs';

const chromium = await findExecutable(['chromium', 'chromium-browser', 'google-chrome']);
const chromedriver = await findExecutable(['chromedriver']);
const SHOTS = process.env.UI_SCREENSHOT_DIR ?? join(tmpdir(), 'madoguchi-ui');
const ASSETS = fileURLToPath(new URL('../../src/web/assets/manager/', import.meta.url));
const TYPES = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8' };

const text = (css) => `document.querySelector(${JSON.stringify(css)})?.textContent`;

/** A live state with an English caller first in `general` and a Japanese one in `card`. */
function liveState() {
  const now = Date.now();
  const ago = (s) => new Date(now - s * 1000).toISOString();
  return {
    at: new Date(now).toISOString(),
    queues: [
      {
        name: 'card', label: '申請・受け取り', operators_available: 1, operators_logged_in: 1,
        longest_wait_s: 20,
        waiting: [{ call_id: 'call-ja', position: 1, since: ago(20), waited_s: 20, menu_choice: '1', language: null, node: 'a' }],
      },
      {
        name: 'general', label: 'その他のお問い合わせ', operators_available: 0, operators_logged_in: 1,
        longest_wait_s: 95,
        waiting: [
          { call_id: 'call-en', position: 1, since: ago(95), waited_s: 95, menu_choice: '9', language: 'en', language_wait_s: 120, language_fallback: null, node: 'a' },
          { call_id: 'call-en-any', position: 2, since: ago(150), waited_s: 150, menu_choice: '9', language: 'en', language_wait_s: 120, language_fallback: 'any', node: 'a' },
        ],
      },
    ],
    operators: [{ login: 'suzuki', state: 'on_call', reason: null, since: ago(60), phones: 1 }],
    today: { calls: 3, offered: 3, answered: 1, abandoned: 0, overflowed: 0, transferred: 0 },
    board: { threshold_s: 20, short_abandon_s: 5, today: {}, last_30_min: {}, intervals: [] },
    monitors: [],
  };
}

/** Serves the board's files and just enough of the API for a signed-in manager. */
async function startStandIn() {
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const json = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (path === '/manager' || path.startsWith('/manager/')) {
      const name = path === '/manager' || path === '/manager/' ? 'index.html' : path.slice('/manager/'.length);
      if (!/^[\w.-]+$/.test(name)) return json(404, {});
      try {
        const body = await readFile(join(ASSETS, name));
        res.writeHead(200, { 'content-type': TYPES[extname(name)] ?? 'application/octet-stream' });
        return res.end(body);
      } catch {
        return json(404, {});
      }
    }
    if (path === '/api/v1/session') return json(200, { login: 'kanri', role: 'manager' });
    if (path === '/api/v1/categories') return json(200, []);
    if (path === '/api/v1/complaints') return json(200, { complaints: [] });
    if (path === '/api/v1/queues/stream' || path === '/api/v1/complaints/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      if (path === '/api/v1/queues/stream') res.write(`event: state\ndata: ${JSON.stringify(liveState())}\n\n`);
      else res.write(': open\n\n');
      return undefined;
    }
    return json(404, { error: 'not found' });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}

test('the board\'s waiting callers in a browser', {
  skip: !chromium || !chromedriver ? 'chromium and chromedriver are not installed' : false,
  timeout: 120_000,
}, async (t) => {
  await mkdir(SHOTS, { recursive: true });
  const standIn = await startStandIn();
  const driver = await startDriver(chromedriver);
  const browser = await openBrowser(driver.url, chromium);
  t.after(async () => {
    await browser.quit().catch(() => {});
    driver.stop();
    await standIn.close();
  });

  await t.test('each waiting caller is listed; the English ones with an English badge', async () => {
    await browser.go(`${standIn.url}/manager`);
    await browser.until(`document.querySelectorAll('#waiting-rows tr').length === 3`);
    assert.equal(await browser.run(`return document.getElementById('waiting-none').hidden`), true);
    const rows = await browser.run(`return [...document.querySelectorAll('#waiting-rows tr')].map((row) => ({
      call: row.dataset.callId,
      queue: row.cells[1].textContent,
      badge: row.querySelector('.language-badge')?.textContent ?? null,
      label: row.querySelector('.language-badge')?.getAttribute('aria-label') ?? null,
      status: row.querySelector('[data-role="language-wait"]')?.dataset.state ?? null,
    }))`);
    assert.deepEqual(rows, [
      { call: 'call-ja', queue: '申請・受け取り', badge: null, label: null, status: null },
      { call: 'call-en', queue: 'その他のお問い合わせ', badge: 'English', label: '発信者の言語: 英語', status: 'speaker' },
      { call: 'call-en-any', queue: 'その他のお問い合わせ', badge: 'English', label: '発信者の言語: 英語', status: 'anyone' },
    ]);
    assert.equal(await browser.run(`return ${text('[data-call-id="call-en-any"] [data-role="language-wait"]')}`),
      '→ 全員に案内中');
    await browser.screenshot(join(SHOTS, 'board-language.png'));
  });

  await t.test('the waits tick', async () => {
    await browser.until(`(() => {
      const cell = document.querySelector('[data-call-id="call-en"] [data-role="waiting-time"]');
      return cell && /^1:3\\d$/.test(cell.textContent);
    })()`);
  });

  await t.test('the wait for an English speaker ticks against its end', async () => {
    // Loaded at 1:35: 1:37 or later is the board's own clock, not the snapshot.
    await browser.until(`/^英語対応者を待機中（1:(3[7-9]|[45]\\d) \\/ 2:00）$/.test(${text('[data-call-id="call-en"] [data-role="language-wait"]')})`);
  });

  await t.test('in English the list and the badge are read in English', async () => {
    await browser.click('#lang-toggle');
    await browser.until(`${text('#waiting-heading')} === 'Callers waiting'`);
    assert.equal(await browser.run(`return document.querySelector('[data-call-id="call-en"] .language-badge').getAttribute('aria-label')`),
      'Caller speaks English');
    await browser.until(`${text('[data-call-id="call-en-any"] [data-role="language-wait"]')} === '→ anyone'`);
    await browser.until(`/^waiting for a speaker of English \\(1:\\d\\d of 2:00\\)$/.test(${text('[data-call-id="call-en"] [data-role="language-wait"]')})`);
  });
});
