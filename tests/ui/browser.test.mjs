// The console in a real headless Chromium against the fake engine (fake-engine.mjs): sign-in,
// the audio offer, answering by keyboard, the recording's indicator and controls, the wrap-up
// form's checks, the FAQ, the two-press transfer, filing, declining, language, reconnect,
// sign-out, expiry and take-over.
// Screenshots of each state go to $UI_SCREENSHOT_DIR (default: the temp dir).
// Skipped when chromium or chromedriver is not installed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startFakeEngine } from './fake-engine.mjs';
import { findExecutable, startDriver, openBrowser, KEY } from './webdriver.mjs';

const chromium = await findExecutable(['chromium', 'chromium-browser', 'google-chrome']);
const chromedriver = await findExecutable(['chromedriver']);
const SHOTS = process.env.UI_SCREENSHOT_DIR ?? join(tmpdir(), 'madoguchi-ui');

const visible = (css) => `(() => { const e = document.querySelector(${JSON.stringify(css)});
  return e && !e.closest('[hidden]') && e.offsetParent !== null; })()`;
const text = (css) => `document.querySelector(${JSON.stringify(css)})?.textContent`;
/** WebDriver's code for the F8 key (the recording's pause/resume shortcut). */
const F8 = '\uE038';

test('the operator console in a browser', {
  skip: !chromium || !chromedriver ? 'chromium and chromedriver are not installed' : false,
  timeout: 180_000,
}, async (t) => {
  await mkdir(SHOTS, { recursive: true });
  const fake = await startFakeEngine({ scenario: 'signin' });
  const driver = await startDriver(chromedriver);
  const browser = await openBrowser(driver.url, chromium);
  const shot = (name) => browser.screenshot(join(SHOTS, `agent-${name}.png`));
  const count = (predicate) => fake.received.filter(predicate).length;
  t.after(async () => {
    await browser.quit().catch(() => {});
    driver.stop();
    await fake.close();
  });

  await t.test('a wrong password is refused next to the form', async () => {
    await browser.go(`${fake.url}/agent`);
    await browser.until(visible('#sign-in-form'));
    await shot('sign-in');
    await browser.type('#sign-in-login', 'suzuki');
    await browser.type('#sign-in-password', 'wrong');
    await browser.click('#sign-in-submit');
    const error = await browser.until(`${visible('#sign-in-error')} && ${text('#sign-in-error')}`);
    assert.equal(error, 'ログインIDまたはパスワードが違います。');
  });

  await t.test('signing in opens the console and its socket', async () => {
    await browser.type('#sign-in-password', 'secret');
    await browser.click('#sign-in-submit');
    await fake.waitFor((m) => m.ws === 'open');
    await browser.until(`${text('#connection')} === '接続済み'`);
    assert.equal(await browser.run(`return ${text('#state-badge')}`), '受付可');
  });

  await t.test('the audio is offered once, with gathered candidates and G.711 first', async () => {
    const { sdp } = await fake.waitFor((m) => m.type === 'media_offer');
    assert.match(sdp, /^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0 8 /m);
    assert.match(sdp, /a=sendrecv/);
    assert.match(sdp, /^a=candidate:/m);
    assert.equal(count((m) => m.type === 'media_offer'), 1);
  });

  await t.test('the answer brings the remote audio, measured by remoteLevel', async () => {
    // A second peer in the page stands in for the engine's media and sends a 1 kHz tone.
    const { sdp: offer } = await fake.waitFor((m) => m.type === 'media_offer');
    const answer = await browser.runAsync(`
      const [offer, done] = arguments;
      const ctx = new AudioContext();
      const tone = ctx.createOscillator();
      tone.frequency.value = 1000;
      const out = ctx.createMediaStreamDestination();
      tone.connect(out);
      tone.start();
      const peer = new RTCPeerConnection({ iceServers: [] });
      window.standInPeer = peer;
      for (const track of out.stream.getTracks()) peer.addTrack(track, out.stream);
      await peer.setRemoteDescription({ type: 'offer', sdp: offer });
      await peer.setLocalDescription(await peer.createAnswer());
      if (peer.iceGatheringState !== 'complete') {
        await new Promise((resolve) => peer.addEventListener('icegatheringstatechange',
          () => peer.iceGatheringState === 'complete' && resolve()));
      }
      done(peer.localDescription.sdp);`, offer);
    fake.push({ type: 'media_answer', sdp: answer });
    await browser.until(`${text('#media-status')} === '接続済み'`);
    await browser.until('window.madoguchi.remoteLevel(1000) > 0.5');
    assert.ok(await browser.run('return window.madoguchi.remoteLevel(440)') < 0.1);
  });

  await t.test('the level meter follows the (fake) microphone', async () => {
    await browser.until(`document.getElementById('mic-level').value > 0.2`);
  });

  await t.test('an offered call focuses the answer button and Enter answers it', async () => {
    fake.push({ type: 'offered', call_id: 'call-42', caller: '0467001234', queue: 'desk', waited_s: 37, menu_choice: '1' });
    fake.push({ type: 'state', state: 'ringing', reason: null, since: new Date().toISOString() });
    await browser.until(`document.activeElement?.id === 'answer'`);
    await browser.until(`${text('#live-assertive')}.startsWith('着信です。')`);
    assert.equal(await browser.run(`return ${text('#call-caller')}`), '0467001234');
    assert.equal(await browser.run(`return ${text('#call-menu')}`), '1');
    await shot('offered');
    await browser.press(KEY.ENTER);
    const answered = await fake.waitFor((m) => m.type === 'answer');
    assert.deepEqual(answered, { type: 'answer', call_id: 'call-42' });
    await browser.until(`${visible('#wrapup-form')} && document.activeElement?.id === 'wu-category'`);
    assert.equal(count((m) => m.type === 'answer'), 1);
  });

  await t.test('a recorded call shows it beside the call; the button pauses and F8 resumes', async () => {
    // call-42 is recorded from the bridge (the fake's policy).
    await browser.until(`${visible('#recording-status')} && ${text('#recording-status')} === '録音中'`);
    const dot = await browser.run(`return getComputedStyle(document.getElementById('recording-status'), '::before').content`);
    assert.equal(dot, '"●"');
    assert.equal(await browser.run(`return ${visible('#recording-start')}`), false);
    assert.equal(await browser.run(`return ${text('#recording-toggle')}`), '録音を一時停止');
    await browser.click('#recording-toggle');
    const paused = await fake.waitFor((m) => m.type === 'recording');
    assert.deepEqual(paused, { type: 'recording', call_id: 'call-42', action: 'pause' });
    await browser.until(`${text('#recording-status')} === '録音一時停止中' && ${text('#recording-toggle')} === '録音を再開'`);
    await shot('recording-paused');
    // While the operator writes the note: F8 types nothing and still resumes.
    await browser.run(`document.getElementById('wu-note').focus()`);
    await browser.press(F8);
    const resumed = await fake.waitFor((m) => m.type === 'recording' && m.action === 'resume');
    assert.deepEqual(resumed, { type: 'recording', call_id: 'call-42', action: 'resume' });
    await browser.until(`${text('#recording-status')} === '録音中' && ${text('#recording-toggle')} === '録音を一時停止'`);
    assert.equal(await browser.run(`return document.getElementById('wu-note').value`), '');
    assert.equal(count((m) => m.type === 'recording'), 2);
  });

  await t.test('the wrap-up form names the missing required fields and sends nothing', async () => {
    await browser.click('#wu-save');
    await browser.until(visible('#wu-category-error'));
    assert.equal(await browser.run(`return ${text('#wu-category-error')}`), '問い合わせ区分を選んでください。');
    assert.equal(await browser.run(`return ${text('#wu-outcome-error')}`), '対応結果を選んでください。');
    assert.equal(count((m) => m.http === 'classification'), 0);
  });

  await t.test('a FAQ entry found by Japanese text is linked to the form', async () => {
    await browser.type('#faq-query', '暗証');
    await browser.until(`document.querySelectorAll('#faq-results li').length === 1`);
    await browser.click('#faq-results li button.use');
    await browser.until(`${text('#wu-faq')} === '暗証番号を忘れました'`);
    assert.equal(await browser.run(`return document.getElementById('wu-category').value`), 'オ');
    // Choosing the category, here through the FAQ entry, clears its error.
    assert.equal(await browser.run(`return document.getElementById('wu-category-error').hidden`), true);
    await shot('connected');
    const fits = await browser.run('return document.documentElement.scrollWidth <= window.innerWidth');
    assert.equal(fits, true, 'no horizontal scroll at 1280×720');
  });

  await t.test('one click sends the transfer to the city line', async () => {
    await browser.click('#transfer');
    const sent = await fake.waitFor((m) => m.type === 'transfer');
    assert.deepEqual(sent, { type: 'transfer', call_id: 'call-42', target: 'city_line' });
    await browser.until(`${text('#call-title')} === '通話終了'`);
    assert.equal(await browser.run(`return document.getElementById('wu-outcome-transferred_city').checked`), true);
  });

  await t.test('saving files the classification and offers to end the wrap-up', async () => {
    await browser.type('#wu-note', '市民課に転送');
    await browser.click('#wu-save');
    const filed = await fake.waitFor((m) => m.http === 'classification');
    assert.deepEqual(filed, {
      http: 'classification',
      call: 'call-42',
      body: { category: 'オ', outcome: 'transferred_city', complaint: false, faq_id: 1, note: '市民課に転送' },
    });
    await browser.until(`${visible('#wu-saved')} && document.activeElement?.id === 'wu-available'`);
    await shot('wrap-up-saved');
    await browser.click('#wu-available');
    const available = await fake.waitFor((m) => m.type === 'set_state');
    assert.deepEqual(available, { type: 'set_state', state: 'available' });
    await browser.until(`${visible('#wrapup-empty')} && ${visible('#call-idle')}`);
  });

  await t.test('a call recorded on demand is started from the console; a failure is a calm warning', async () => {
    fake.push({ type: 'offered', call_id: 'call-44', caller: '0312345678', queue: 'desk', waited_s: 5, menu_choice: null });
    await browser.until(visible('#answer'));
    await browser.click('#answer');
    await browser.until(visible('#recording-start'));
    assert.equal(await browser.run(`return ${visible('#recording-status')}`), false, 'nothing said of a call not recorded');
    assert.equal(await browser.run(`return ${text('#recording-start')}`), '録音開始');
    await browser.click('#recording-start');
    const started = await fake.waitFor((m) => m.type === 'recording' && m.call_id === 'call-44');
    assert.deepEqual(started, { type: 'recording', call_id: 'call-44', action: 'start' });
    await browser.until(`${text('#recording-status')} === '録音中' && ${visible('#recording-toggle')}`);
    assert.equal(await browser.run(`return ${visible('#recording-start')}`), false);

    fake.push({ type: 'recording', call_id: 'call-44', state: 'failed' });
    await browser.until(`${text('#recording-status')} === '録音失敗' && ${visible('#recording-note')}`);
    assert.equal(await browser.run(`return ${text('#recording-note')}`),
      '録音に失敗しました（ディスク容量など）。通話はそのまま続けられます。');
    assert.equal(await browser.run(`return ${visible('#recording-actions')}`), false);
    assert.equal(await browser.run(`return document.getElementById('hangup').disabled`), false, 'the call goes on');
    await shot('recording-failed');
    await browser.click('#hangup');
    await browser.until(`${text('#call-title')} === '通話終了' && !${visible('#recording-status')}`);
  });

  await t.test('a start the engine refuses says the call cannot be recorded', async () => {
    fake.push({ type: 'offered', call_id: 'call-45', caller: '0312345678', queue: 'desk', waited_s: 2, menu_choice: null });
    await browser.until(visible('#answer'));
    await browser.click('#answer');
    await browser.until(visible('#recording-start'));
    await browser.click('#recording-start');
    await fake.waitFor((m) => m.type === 'recording' && m.call_id === 'call-45');
    await browser.until(`${visible('#recording-note')} && ${text('#recording-note')} === 'この通話は録音できません'`);
    assert.equal(await browser.run(`return ${visible('#recording-start')}`), false, 'not offered again');
    assert.equal(await browser.run(`return ${visible('#engine-error')}`), false, 'said in place, not as a banner');
    await shot('recording-refused');
    await browser.click('#hangup');
    await browser.until(`${text('#call-title')} === '通話終了'`);
  });

  await t.test('Escape declines an offered call', async () => {
    fake.push({ type: 'offered', call_id: 'call-43', caller: '0312345678', queue: 'desk', waited_s: 3, menu_choice: null });
    await browser.until(`document.activeElement?.id === 'answer'`);
    await browser.press(KEY.ESCAPE);
    const declined = await fake.waitFor((m) => m.type === 'decline');
    assert.deepEqual(declined, { type: 'decline', call_id: 'call-43' });
    await browser.until(visible('#call-idle'));
  });

  await t.test('pausing sends the chosen reason', async () => {
    await browser.run(`document.getElementById('pause-reason').value = 'lunch'`);
    await browser.click('#go-paused');
    const paused = await fake.waitFor((m) => m.type === 'set_state' && m.state === 'paused');
    assert.equal(paused.reason, 'lunch');
    await browser.until(`${text('#state-badge')} === '休憩（昼食）'`);
  });

  await t.test('the test hooks show the state and the last message', async () => {
    const state = await browser.run('return window.madoguchi.state()');
    assert.equal(state.session, 'signed_in');
    assert.equal(state.operator.state, 'paused');
    const last = await browser.run('return window.madoguchi.lastMessage');
    assert.equal(last.type, 'state');
    assert.equal(typeof await browser.run('return window.madoguchi.remoteLevel(1000)'), 'number');
  });

  await t.test('English is remembered across a reload', async () => {
    await browser.click('#lang-toggle');
    await browser.until(`${text('#status-heading')} === 'Status'`);
    await browser.refresh();
    await browser.until(`${text('#connection')} === 'Connected'`);
    assert.equal(await browser.run('return document.documentElement.lang'), 'en');
    await shot('english');
    await browser.click('#lang-toggle');
    await browser.until(`${text('#status-heading')} === '受付状態'`);
  });

  await t.test('a dropped socket reconnects by itself', async () => {
    const before = count((m) => m.ws === 'open');
    fake.dropConsoles();
    await fake.waitFor((m) => m.ws === 'open' && count((x) => x.ws === 'open') > before);
    await browser.until(`${text('#connection')} === '接続済み'`);
  });

  await t.test('signing out tells the engine and returns to the sign-in form', async () => {
    await browser.click('#sign-out');
    await fake.waitFor((m) => m.type === 'sign_out');
    await fake.waitFor((m) => m.http === 'sign_out');
    await browser.until(`${visible('#sign-in-form')} && ${text('#sign-in-notice')} === 'サインアウトしました。'`);
  });

  await t.test('an expired session returns to the sign-in form', async () => {
    await browser.type('#sign-in-login', 'suzuki');
    await browser.type('#sign-in-password', 'secret');
    await browser.click('#sign-in-submit');
    await browser.until(`${text('#connection')} === '接続済み'`);
    fake.expireSession();
    await browser.until(`${visible('#sign-in-form')} && ${text('#sign-in-notice')}`);
    assert.equal(await browser.run(`return ${text('#sign-in-notice')}`),
      'セッションの有効期限が切れました。もう一度サインインしてください。');
  });

  await t.test('a take-over shows why and stops the console', async () => {
    await browser.type('#sign-in-password', 'secret');
    await browser.click('#sign-in-submit');
    await browser.until(`${text('#connection')} === '接続済み'`);
    fake.push({ type: 'taken_over' });
    fake.dropConsoles();
    await browser.until(visible('#taken-over-message'));
    assert.equal(await browser.run(`return ${text('#taken-over-message')}`),
      '別の画面でサインインしたため、この画面は切断されました');
    await shot('taken-over');
    // That no reconnect follows is socket.test.mjs's to show; here the page has stopped.
    const state = await browser.run('return window.madoguchi.state()');
    assert.equal(state.session, 'taken_over');
    assert.equal(state.connection, 'closed');
  });
});
