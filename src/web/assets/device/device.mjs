// The counter device's own page (`/device#token=mdg_dev_…`): kept open on a counter tablet,
// it beats to POST /api/v1/devices/heartbeat every 30 s (or as the server's `every_s`
// says) with the device token, the round trip of its previous beat, whether the browser
// thinks it is online and the battery when the browser tells it. It shows its own last
// success and failure, in Japanese, for the clerk at the counter.
//
// The token comes in the URL fragment once (never sent to the server in the URL), is kept in
// localStorage and taken out of the address bar. `window.madoguchiDevice.state()` tells the
// end-to-end test what the page knows.

export const TOKEN_KEY = 'madoguchi.device_token';
const DEFAULT_EVERY_S = 30;
/** A battery below this share, not charging, is a warning. */
const LOW_BATTERY = 0.2;

/** The token of a `#token=…` fragment, or null. */
export function tokenFromHash(hash) {
  const token = new URLSearchParams(String(hash ?? '').replace(/^#/, '')).get('token');
  return token && token.startsWith('mdg_dev_') ? token : null;
}

/** The status and detail a beat reports from what the browser knows. */
export function describe({ online, battery }) {
  const parts = [online === false ? 'ネットワーク: オフライン表示' : 'ネットワーク: オンライン'];
  let status = online === false ? 'warning' : 'ok';
  if (battery) {
    const percent = Math.round(battery.level * 100);
    parts.push(`バッテリー: ${percent}%${battery.charging ? '（充電中）' : ''}`);
    if (!battery.charging && battery.level < LOW_BATTERY) status = 'warning';
  }
  return { status, detail: parts.join(' / ') };
}

/** The JSON body of beat number `seq`; `rttMs` is the previous beat's round trip. */
export function beatBody({ status, detail }, rttMs, seq) {
  return { status, detail, rtt_ms: rttMs, seq };
}

/** Why a beat failed, for the clerk. */
export function failureText(httpStatus) {
  if (httpStatus === 401) return 'トークンが無効です（管理者に確認してください）';
  if (httpStatus === 429) return '送信間隔が短すぎます';
  if (httpStatus === null) return 'サーバーに接続できません';
  return `サーバーエラー（HTTP ${httpStatus}）`;
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString('ja-JP', { hour12: false });
}

function start() {
  const $ = (id) => document.getElementById(id);
  const page = {
    token: null, seq: 0, rttMs: null, everyS: DEFAULT_EVERY_S,
    lastSuccessMs: null, lastFailureMs: null, lastFailure: null, battery: null, beats: 0,
  };

  const fromHash = tokenFromHash(window.location.hash);
  try {
    if (fromHash) window.localStorage.setItem(TOKEN_KEY, fromHash);
    page.token = fromHash ?? window.localStorage.getItem(TOKEN_KEY);
  } catch {
    page.token = fromHash; // storage refused: this visit still beats
  }
  if (fromHash) {
    // Out of the address bar, the history and any screenshot.
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
  }

  function render() {
    const summary = $('summary');
    if (!page.token) {
      summary.dataset.state = 'no_token';
      summary.textContent = 'トークンがありません。/device#token=… の形で開いてください。';
      return;
    }
    const failing = page.lastFailureMs !== null
      && (page.lastSuccessMs === null || page.lastFailureMs > page.lastSuccessMs);
    summary.dataset.state = failing ? 'failing' : (page.lastSuccessMs === null ? 'starting' : 'ok');
    summary.textContent = failing
      ? `送信できません: ${page.lastFailure}`
      : (page.lastSuccessMs === null ? '送信中…' : '正常に送信しています');
    $('last-success').textContent = page.lastSuccessMs === null ? '—' : clock(page.lastSuccessMs);
    $('last-failure').textContent = page.lastFailureMs === null
      ? '—' : `${clock(page.lastFailureMs)} ${page.lastFailure}`;
    $('rtt').textContent = page.rttMs === null ? '—' : `${page.rttMs} ms`;
    $('network').textContent = navigator.onLine === false ? 'オフライン' : 'オンライン';
    $('battery').textContent = page.battery
      ? `${Math.round(page.battery.level * 100)}%${page.battery.charging ? '（充電中）' : ''}`
      : '不明';
  }

  async function beat() {
    const body = beatBody(describe({ online: navigator.onLine, battery: page.battery }), page.rttMs, page.seq);
    const started = performance.now();
    let next = page.everyS;
    try {
      const response = await fetch('/api/v1/devices/heartbeat', {
        method: 'POST',
        cache: 'no-store',
        headers: {
          authorization: `Bearer ${page.token}`,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body: JSON.stringify(body),
      });
      if (response.ok) {
        page.rttMs = Math.round(performance.now() - started);
        page.lastSuccessMs = Date.now();
        page.seq += 1;
        page.beats += 1;
        const reply = await response.json().catch(() => ({}));
        if (Number.isInteger(reply?.every_s) && reply.every_s >= 5) page.everyS = reply.every_s;
        next = page.everyS;
      } else {
        page.rttMs = null;
        page.lastFailureMs = Date.now();
        page.lastFailure = failureText(response.status);
        const retryAfter = Number(response.headers.get('retry-after'));
        if (response.status === 429 && retryAfter > 0) next = retryAfter;
      }
    } catch {
      page.rttMs = null;
      page.lastFailureMs = Date.now();
      page.lastFailure = failureText(null);
    }
    render();
    setTimeout(beat, next * 1000);
  }

  window.madoguchiDevice = {
    state: () => ({
      token: page.token !== null,
      beats: page.beats,
      lastSuccessMs: page.lastSuccessMs,
      lastFailure: page.lastFailure,
      rttMs: page.rttMs,
    }),
  };

  render();
  if (!page.token) return;
  window.addEventListener('online', render);
  window.addEventListener('offline', render);
  const battery = typeof navigator.getBattery === 'function'
    ? navigator.getBattery().then((b) => { page.battery = b; }).catch(() => {})
    : Promise.resolve();
  battery.finally(beat);
}

if (typeof document !== 'undefined') start();
