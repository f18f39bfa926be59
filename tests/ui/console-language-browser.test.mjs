// The caller's language badge in a real headless Chromium, against the fake engine
// (fake-engine.mjs, its caller chose English in the menu): seen and read out while the call
// rings, kept once answered, in the display language's words, absent for a default-language
// caller. Screenshots go to $UI_SCREENSHOT_DIR (default: the temp dir).
// Skipped when chromium or chromedriver is not installed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startFakeEngine } from './fake-engine.mjs';
import { findExecutable, startDriver, openBrowser } from './webdriver.mjs';

const chromium = await findExecutable(['chromium', 'chromium-browser', 'google-chrome']);
const chromedriver = await findExecutable(['chromedriver']);
const SHOTS = process.env.UI_SCREENSHOT_DIR ?? join(tmpdir(), 'madoguchi-ui');

const visible = (css) => `(() => { const e = document.querySelector(${JSON.stringify(css)});
  return Boolean(e) && !e.closest('[hidden]') && e.offsetParent !== null; })()`;
const text = (css) => `document.querySelector(${JSON.stringify(css)})?.textContent`;

/** WCAG contrast ratio of an element's text against its own background, in the page. */
const CONTRAST = `
  const element = document.querySelector(arguments[0]);
  const style = getComputedStyle(element);
  const luminance = (css) => {
    const [r, g, b] = css.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number).map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [light, dark] = [luminance(style.color), luminance(style.backgroundColor)]
    .sort((a, b) => b - a);
  return (light + 0.05) / (dark + 0.05);`;

test('the caller\'s language on the console in a browser', {
  skip: !chromium || !chromedriver ? 'chromium and chromedriver are not installed' : false,
  timeout: 120_000,
}, async (t) => {
  await mkdir(SHOTS, { recursive: true });
  const fake = await startFakeEngine({ scenario: 'offered', language: 'en' });
  const driver = await startDriver(chromedriver);
  const browser = await openBrowser(driver.url, chromium);
  const shot = (name) => browser.screenshot(join(SHOTS, `agent-language-${name}.png`));
  t.after(async () => {
    await browser.quit().catch(() => {});
    driver.stop();
    await fake.close();
  });

  await t.test('an English caller rings with an English badge and is announced so', async () => {
    await browser.go(`${fake.url}/agent`);
    await browser.until(`${visible('#call-language')} && ${text('#call-language')} === 'English'`);
    assert.equal(await browser.run(`return ${text('#call-title')}`), '着信');
    assert.equal(await browser.run(`return document.getElementById('call-language').lang`), 'en');
    assert.equal(await browser.run(`return document.getElementById('call-language').getAttribute('aria-label')`),
      '発信者の言語: 英語');
    await browser.until(`${text('#live-assertive')}.startsWith('着信です。英語の通話です。')`);
    await shot('offered');
  });

  await t.test('the badge is high contrast (at least 7:1) and the page still fits', async () => {
    const ratio = await browser.run(CONTRAST, '#call-language');
    assert.ok(ratio >= 7, `contrast ${ratio.toFixed(2)}:1`);
    const fits = await browser.run('return document.documentElement.scrollWidth <= window.innerWidth');
    assert.equal(fits, true, 'no horizontal scroll at 1280×720');
  });

  await t.test('the badge stays on the answered call', async () => {
    await browser.click('#answer');
    await fake.waitFor((m) => m.type === 'answer');
    await browser.until(`${text('#call-title')} === '通話中'`);
    assert.equal(await browser.run(`return ${visible('#call-language')}`), true);
    assert.equal(await browser.run(`return ${text('#call-language')}`), 'English');
    await shot('connected');
  });

  await t.test('in the English display the badge is read out in English', async () => {
    await browser.click('#lang-toggle');
    await browser.until(`document.getElementById('call-language').getAttribute('aria-label') === 'Caller speaks English'`);
    assert.equal(await browser.run(`return ${text('#call-language')}`), 'English');
    await browser.click('#lang-toggle');
    await browser.until(`${text('#call-title')} === '通話中'`);
  });

  await t.test('a caller in the default language gets no badge', async () => {
    await browser.click('#hangup');
    await browser.until(`${text('#call-title')} === '通話終了'`);
    fake.push({ type: 'offered', call_id: 'call-43', caller: '0312345678', queue: 'desk', waited_s: 3, menu_choice: '1', language: null });
    await browser.until(`${visible('#answer')} && ${text('#call-title')} === '着信'`);
    assert.equal(await browser.run(`return ${visible('#call-language')}`), false);
    await browser.until(`${text('#live-assertive')}.startsWith('着信です。待ち時間')`);
  });

  await t.test('an English caller offered by the fallback says no English speaker was free', async () => {
    await browser.click('#decline');
    await fake.waitFor((m) => m.type === 'decline');
    fake.push({ type: 'offered', call_id: 'call-44', caller: '0312345679', queue: 'desk', waited_s: 121, menu_choice: '9', language: 'en', language_fallback: 'any' });
    await browser.until(`${text('#call-language')} === 'English（英語対応者なし・全員へ）'`);
    assert.equal(await browser.run(`return document.getElementById('call-language').dataset.fallback`), 'any');
    assert.equal(await browser.run(`return document.getElementById('call-language').getAttribute('aria-label')`),
      '発信者の言語: 英語。英語対応者が応答しなかったため、全オペレーターに着信しています');
    await browser.until(`${text('#live-assertive')}.includes('英語対応者が応答しなかったため')`);
    const fits = await browser.run('return document.documentElement.scrollWidth <= window.innerWidth');
    assert.equal(fits, true, 'no horizontal scroll at 1280×720');
    await shot('fallback');
  });
});
