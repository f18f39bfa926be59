// The manager pages' shared door (src/web/assets/manager/sign-in.mjs): which view a user gets,
// the form's checks, the button while the server is asked, the error per answer, expiry and
// signing out, driven on a small fake DOM with a fake session; and the markup it fills in,
// the same accessible form every page had in its HTML.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import {
  createSignIn, credentials, FORBIDDEN_VIEW, SIGN_IN_VIEW, viewFor,
} from '../../src/web/assets/manager/sign-in.mjs';
import { RequestFailed } from '../../src/web/assets/manager/session.mjs';
import { STRINGS } from '../../src/web/assets/manager/i18n.mjs';

const PAGES = ['index.html', 'faq.html', 'staffing.html', 'call.html'];
const MANAGER = { login: 'tanaka', role: 'manager' };
const AGENT = { login: 'suzuki', role: 'agent' };

/** Just enough of an element: attributes, children, the properties the module sets. */
class FakeElement {
  constructor(document, tag) {
    this.document = document;
    this.tag = tag;
    this.attributes = {};
    this.children = [];
    this.listeners = {};
    this.hidden = false;
    this.disabled = false;
    this.textContent = '';
    this.value = '';
  }

  setAttribute(name, value) {
    this.attributes[name] = String(value);
    if (name === 'id') this.document.byId.set(value, this);
    if (name === 'hidden') this.hidden = true;
  }

  append(...nodes) {
    this.children.push(...nodes);
  }

  replaceChildren(...nodes) {
    this.children = nodes;
  }

  addEventListener(type, listener) {
    (this.listeners[type] ??= []).push(listener);
  }

  /** Runs the listeners; resolves when the (async) ones have finished. */
  dispatch(type, event = {}) {
    return Promise.all((this.listeners[type] ?? []).map((listener) => listener(event)));
  }

  focus() {
    this.document.activeElement = this;
  }
}

class FakeDocument {
  constructor(ids) {
    this.byId = new Map();
    this.activeElement = null;
    for (const id of ids) this.createElement('div').setAttribute('id', id);
  }

  createElement(tag) {
    return new FakeElement(this, tag);
  }

  getElementById(id) {
    return this.byId.get(id) ?? null;
  }
}

/** A promise and its resolve, for an answer the test gives when it chooses. */
function deferred() {
  let resolve;
  const promise = new Promise((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

/**
 * A board-like page: its HTML's elements, a session answering `current` with `who` (an
 * Error: no answer), and a log of the calls the page gets and the session receives.
 */
function page({ who = null, signIn = async (login) => ({ ...MANAGER, login }) } = {}) {
  const document = new FakeDocument(['loading', 'sign-in-view', 'forbidden-view', 'board-view', 'who', 'sign-out']);
  for (const id of ['sign-in-view', 'forbidden-view', 'board-view', 'who', 'sign-out']) {
    document.getElementById(id).hidden = true;
  }
  const log = [];
  const session = {
    async current() {
      if (who instanceof Error) throw who;
      return who;
    },
    async signIn(login, password) {
      log.push(`session.signIn ${login} ${password}`);
      return signIn(login, password);
    },
    async signOut() {
      log.push('session.signOut');
      throw new RequestFailed(0);
    },
  };
  const gate = createSignIn({
    session,
    t: (key, params) => (params ? `${key} ${JSON.stringify(params)}` : key),
    view: { name: 'board', id: 'board-view' },
    onSignedIn: (user) => log.push(`onSignedIn ${user.login}`),
    onSignedOut: () => log.push('onSignedOut'),
    onShow: (view) => log.push(`onShow ${view}`),
    document,
  });
  gate.wire();
  const $ = (id) => document.getElementById(id);
  const shown = () => ['loading', 'sign-in-view', 'forbidden-view', 'board-view'].filter((id) => !$(id).hidden);
  const submit = (login, password) => {
    $('sign-in-login').value = login;
    $('sign-in-password').value = password;
    return $('sign-in-form').dispatch('submit', { preventDefault: () => log.push('preventDefault') });
  };
  return { gate, document, log, $, shown, submit };
}

/** The elements of a markup spec, depth first: [tag, attributes]. */
function flatten(spec) {
  return spec.flatMap(([tag, attributes, children = []]) => [[tag, attributes], ...flatten(children)]);
}

test('nobody signed in gets the form, an operator the notice, a manager or admin the page', () => {
  assert.equal(viewFor(null, 'board'), 'sign_in');
  assert.equal(viewFor(AGENT, 'board'), 'forbidden');
  assert.equal(viewFor({ login: 'x', role: null }, 'editor'), 'forbidden');
  assert.equal(viewFor(MANAGER, 'editor'), 'editor');
  assert.equal(viewFor({ login: 'root', role: 'admin' }, 'staffing'), 'staffing');
});

test('the login is trimmed, the password sent as typed, and both are required', () => {
  assert.deepEqual(credentials('  tanaka ', ' pass word '), { login: 'tanaka', password: ' pass word ' });
  assert.equal(credentials('   ', 'secret'), null);
  assert.equal(credentials('tanaka', ''), null);
  assert.equal(credentials(undefined, undefined), null);
});

test('the form is labelled and autocompletes as a sign-in form; the sections name their headings', () => {
  const form = flatten(SIGN_IN_VIEW);
  const inputs = form.filter(([tag]) => tag === 'input').map(([, a]) => a);
  const labels = form.filter(([tag]) => tag === 'label').map(([, a]) => a.for);
  assert.deepEqual(inputs.map((a) => [a.id, a.type, a.autocomplete, 'required' in a]), [
    ['sign-in-login', 'text', 'username', true],
    ['sign-in-password', 'password', 'current-password', true],
  ]);
  assert.deepEqual(labels, ['sign-in-login', 'sign-in-password']);
  const byId = (spec, id) => flatten(spec).find(([, a]) => a.id === id)?.[1];
  assert.equal(byId(SIGN_IN_VIEW, 'sign-in-form').novalidate, '');
  assert.equal(byId(SIGN_IN_VIEW, 'sign-in-error').role, 'alert');
  assert.equal(byId(SIGN_IN_VIEW, 'sign-in-notice').role, 'status');
  assert.equal(byId(SIGN_IN_VIEW, 'sign-in-submit').type, 'submit');
  assert.equal(byId(FORBIDDEN_VIEW, 'forbidden-message').role, 'alert');
  for (const name of PAGES) {
    const html = readFileSync(new URL(`../../src/web/assets/manager/${name}`, import.meta.url), 'utf8');
    for (const [id, heading, spec] of [
      ['sign-in-view', 'sign-in-heading', SIGN_IN_VIEW],
      ['forbidden-view', 'forbidden-message', FORBIDDEN_VIEW],
    ]) {
      assert.ok(
        html.includes(`<section id="${id}" class="sign-in" aria-labelledby="${heading}" hidden></section>`),
        `${name} has an empty, hidden #${id} for the module to fill`,
      );
      assert.ok(byId(spec, heading), `#${heading}, which labels #${id}, is in its markup`);
    }
    for (const id of ['loading', 'who', 'sign-out']) assert.match(html, new RegExp(`id="${id}"`), `${name} #${id}`);
    assert.doesNotMatch(html, /id="sign-in-form"/, `${name} keeps no copy of the form`);
  }
});

test('every word the door shows is in the board\'s table in both languages', () => {
  const keys = flatten([...SIGN_IN_VIEW, ...FORBIDDEN_VIEW])
    .map(([, a]) => a['data-i18n'])
    .filter(Boolean)
    .concat([
      'who', 'signin.submitting', 'signin.error.required', 'signin.error.bad_credentials',
      'signin.error.rate_limited', 'signin.error.network', 'signin.expired', 'signin.signed_out',
    ]);
  for (const lang of ['ja', 'en']) {
    for (const key of keys) assert.equal(typeof STRINGS[lang][key], 'string', `${lang} ${key}`);
  }
});

test('the filled form carries its words before the page translates it', () => {
  const { $ } = page();
  assert.equal($('sign-in-submit').textContent, 'signin.submit');
  assert.equal($('forbidden-message').textContent, 'forbidden.message');
  assert.equal($('sign-in-view').children.length, 3);
});

test('with nobody signed in the form is shown, focused, without a notice', async () => {
  const { gate, document, log, $, shown } = page();
  assert.deepEqual([gate.view, shown()], ['loading', ['loading']]);
  await gate.start();
  assert.deepEqual([gate.view, gate.user, shown()], ['sign_in', null, ['sign-in-view']]);
  assert.equal(document.activeElement, $('sign-in-login'));
  assert.equal($('sign-in-notice').hidden, true);
  assert.equal($('sign-out').hidden, true);
  assert.equal($('who').hidden, true);
  assert.deepEqual(log, ['onSignedOut', 'onShow sign_in']);
});

test('a server that does not answer counts as nobody signed in', async () => {
  const { gate, shown } = page({ who: new RequestFailed(0) });
  await gate.start();
  assert.deepEqual([gate.view, shown()], ['sign_in', ['sign-in-view']]);
});

test('a manager still signed in gets the page at once, named in the top bar', async () => {
  const { gate, log, $, shown } = page({ who: MANAGER });
  await gate.start();
  assert.deepEqual([gate.view, gate.user, shown()], ['board', MANAGER, ['board-view']]);
  assert.equal($('who').textContent, 'who {"login":"tanaka"}');
  assert.deepEqual([$('who').hidden, $('sign-out').hidden], [false, false]);
  assert.deepEqual(log, ['onShow board', 'onSignedIn tanaka']);
});

test('an operator is told the page is for managers and the page loads nothing', async () => {
  const { gate, log, $, shown } = page({ who: AGENT });
  await gate.start();
  assert.deepEqual([gate.view, shown()], ['forbidden', ['forbidden-view']]);
  assert.equal($('sign-out').hidden, false, 'the operator can sign out to let a manager in');
  assert.deepEqual(log, ['onSignedOut', 'onShow forbidden']);
});

test('a missing password is refused in the page, without asking the server', async () => {
  const { gate, log, $, submit } = page();
  await gate.start();
  log.length = 0;
  await submit('tanaka', '');
  assert.deepEqual(log, ['preventDefault']);
  assert.deepEqual([$('sign-in-error').hidden, $('sign-in-error').textContent], [false, 'signin.error.required']);
  assert.equal(gate.view, 'sign_in');
});

test('while the server is asked the button is disabled and says so; then the page opens', async () => {
  const answer = deferred();
  const { gate, log, $, submit } = page({ signIn: () => answer.promise });
  await gate.start();
  log.length = 0;
  const done = submit('  tanaka ', 'secret');
  assert.deepEqual([$('sign-in-submit').disabled, $('sign-in-submit').textContent], [true, 'signin.submitting']);
  assert.equal(gate.view, 'sign_in');
  answer.resolve(MANAGER);
  await done;
  assert.deepEqual([$('sign-in-submit').disabled, $('sign-in-submit').textContent], [false, 'signin.submit']);
  assert.deepEqual([gate.view, gate.user], ['board', MANAGER]);
  assert.equal($('sign-in-password').value, '', 'the password is not kept in the page');
  assert.equal($('sign-in-error').hidden, true);
  assert.deepEqual(log, ['preventDefault', 'session.signIn tanaka secret', 'onShow board', 'onSignedIn tanaka']);
});

test('a refused sign-in says why, keeps the form and frees the button', async () => {
  for (const [failure, key] of [
    [new RequestFailed(401), 'signin.error.bad_credentials'],
    [new RequestFailed(403), 'signin.error.bad_credentials'],
    [new RequestFailed(429), 'signin.error.rate_limited'],
    [new RequestFailed(0), 'signin.error.network'],
    [new RequestFailed(500), 'signin.error.network'],
  ]) {
    const { gate, $, submit } = page({ signIn: async () => { throw failure; } });
    await gate.start();
    await submit('tanaka', 'wrong');
    assert.deepEqual([$('sign-in-error').hidden, $('sign-in-error').textContent], [false, key], `HTTP ${failure.status}`);
    assert.deepEqual([gate.view, gate.user], ['sign_in', null]);
    assert.equal($('sign-in-submit').disabled, false);
  }
});

test('an expired session brings the form back with a notice, and the page lets go', async () => {
  const { gate, log, $, shown } = page({ who: MANAGER });
  await gate.start();
  log.length = 0;
  gate.expired();
  assert.deepEqual([gate.view, gate.user, shown()], ['sign_in', null, ['sign-in-view']]);
  assert.deepEqual([$('sign-in-notice').hidden, $('sign-in-notice').textContent], [false, 'signin.expired']);
  assert.deepEqual([$('who').hidden, $('sign-out').hidden], [true, true]);
  assert.deepEqual(log, ['onSignedOut', 'onShow sign_in']);
});

test('signing out lets the page go before the session ends, even when the server is away', async () => {
  const { gate, log, $ } = page({ who: MANAGER });
  await gate.start();
  log.length = 0;
  await $('sign-out').dispatch('click');
  assert.deepEqual(log.slice(0, 2), ['onSignedOut', 'session.signOut']);
  assert.deepEqual([gate.view, gate.user], ['sign_in', null]);
  assert.equal($('sign-in-notice').textContent, 'signin.signed_out');
});

test('the form coming back without a notice hides the one shown before', async () => {
  const { gate, $ } = page();
  gate.expired();
  assert.equal($('sign-in-notice').hidden, false);
  await gate.start();
  assert.equal($('sign-in-notice').hidden, true);
});

test('the server refusing the page (403) shows the notice and the page lets go', async () => {
  const { gate, log, shown } = page({ who: MANAGER });
  await gate.start();
  log.length = 0;
  gate.forbidden();
  assert.deepEqual([gate.view, shown()], ['forbidden', ['forbidden-view']]);
  assert.deepEqual(log, ['onSignedOut', 'onShow forbidden']);
});
