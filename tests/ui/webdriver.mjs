// A small W3C WebDriver client over fetch, for the console's browser test: Debian's
// chromium-driver started on a free port, one headless Chromium session with fake media
// devices. No npm packages.

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { access, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';
/** How long a page condition may take before the test fails (page events are ms apart). */
export const WAIT_LIMIT_MS = 10_000;

/** The first of `names` found on PATH, or null. */
export async function findExecutable(names) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of names) {
      const candidate = join(dir, name);
      try {
        await access(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return null;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts chromedriver; resolves once it says it is listening. */
export async function startDriver(binary) {
  const port = await freePort();
  const child = spawn(binary, [`--port=${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk) => {
      output += chunk;
      if (output.includes('started successfully')) resolve();
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`chromedriver exited (${code}): ${output}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => {
      child.kill();
    },
  };
}

/** Opens a headless Chromium session; returns the page-level helpers the test uses. */
export async function openBrowser(driverUrl, chromiumBinary) {
  const created = await call(driverUrl, 'POST', '/session', {
    capabilities: {
      alwaysMatch: {
        browserName: 'chrome',
        'goog:chromeOptions': {
          binary: chromiumBinary,
          args: [
            '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
            '--window-size=1280,720', '--hide-scrollbars',
            '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
            '--autoplay-policy=no-user-gesture-required',
          ],
        },
      },
    },
  });
  const base = `/session/${created.sessionId}`;
  const session = (method, path, body) => call(driverUrl, method, `${base}${path}`, body);
  // The window size includes the browser's frame; the page itself is to be 1280×720.
  await session('POST', '/goog/cdp/execute', {
    cmd: 'Emulation.setDeviceMetricsOverride',
    params: { width: 1280, height: 720, deviceScaleFactor: 1, mobile: false },
  });

  async function find(css) {
    const found = await session('POST', '/element', { using: 'css selector', value: css });
    return found[ELEMENT];
  }

  const browser = {
    go: (url) => session('POST', '/url', { url }),
    refresh: () => session('POST', '/refresh', {}),
    async click(css) {
      await session('POST', `/element/${await find(css)}/click`, {});
    },
    async type(css, text) {
      const id = await find(css);
      await session('POST', `/element/${id}/clear`, {});
      await session('POST', `/element/${id}/value`, { text });
    },
    /** Runs `body` (a function body using `arguments`) in the page. */
    run: (body, ...args) => session('POST', '/execute/sync', { script: body, args }),
    /** Runs `body` in the page; its last argument is the callback that ends it. */
    runAsync: (body, ...args) => session('POST', '/execute/async', {
      script: `return (async () => { ${body} })()`, args,
    }),
    /** Resolves once `expression` (JavaScript) is truthy in the page; its value. */
    async until(expression) {
      const script = `
        const done = arguments[arguments.length - 1];
        const limit = performance.now() + ${WAIT_LIMIT_MS};
        const check = () => {
          let value;
          try { value = (${expression}); } catch (e) { value = undefined; }
          if (value) return done({ ok: true, value });
          if (performance.now() > limit) return done({ ok: false });
          requestAnimationFrame(check);
        };
        check();`;
      const result = await session('POST', '/execute/async', { script, args: [] });
      if (!result?.ok) throw new Error(`page condition never held: ${expression}`);
      return result.value;
    },
    /** Presses one key (a WebDriver key code such as '\uE007' for Enter). */
    press: (key) => session('POST', '/actions', {
      actions: [{
        type: 'key',
        id: 'keyboard',
        actions: [{ type: 'keyDown', value: key }, { type: 'keyUp', value: key }],
      }],
    }),
    async screenshot(path) {
      const png = await session('GET', '/screenshot');
      await writeFile(path, Buffer.from(png, 'base64'));
    },
    quit: () => session('DELETE', ''),
  };
  return browser;
}

export const KEY = { ENTER: '\uE007', ESCAPE: '\uE00C', SPACE: '\uE00D' };

async function call(driverUrl, method, path, body) {
  const response = await fetch(`${driverUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) {
    throw new Error(`WebDriver ${method} ${path}: ${data?.value?.message ?? response.status}`);
  }
  return data.value;
}
