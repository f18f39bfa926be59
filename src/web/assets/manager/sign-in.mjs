// The door of every manager page (the board, the FAQ editor, the staffing week): the sign-in
// form, the "managers only" notice for an operator, signing out, and the way back to the form
// when the session ends. A page keeps only its own view and says what to do when a manager
// comes in and when the view is left; which of the views is shown is decided here.
//
// The page's HTML holds two empty, hidden sections, `#sign-in-view` and `#forbidden-view`,
// and a `#loading` line, `#who` and `#sign-out` in its top bar; `wire()` fills the sections
// (SIGN_IN_VIEW, FORBIDDEN_VIEW: no inline script under `script-src 'self'`, and the same
// markup on every page) while `#loading` is still what is shown, so nothing flashes.
//
//   const gate = createSignIn({
//     session, t,
//     view: { name: 'board', id: 'board-view' },
//     onSignedIn: (user) => openStreams(),
//     onSignedOut: () => closeStreams(),
//   });
//   gate.wire();            // before the page translates its [data-i18n] elements
//   gate.start();           // asks GET /api/v1/session, then shows one of the views
//   gate.expired();         // a 401 from the page's own calls: back to the form, with a notice
//
// `gate.view` is 'loading', 'sign_in', 'forbidden' or the page's view name; `gate.user` is
// {login, role} or null.

import { mayWatch, signInErrorKey } from './session.mjs';

/** The sign-in form, as [tag, attributes, children] (texts from `data-i18n`). */
export const SIGN_IN_VIEW = [
  ['h2', { id: 'sign-in-heading', 'data-i18n': 'signin.heading' }],
  ['p', { id: 'sign-in-notice', class: 'notice', role: 'status', hidden: '' }],
  ['form', { id: 'sign-in-form', novalidate: '' }, [
    ['div', { class: 'field' }, [
      ['label', { for: 'sign-in-login', 'data-i18n': 'signin.login' }],
      ['input', {
        id: 'sign-in-login', name: 'login', type: 'text', autocomplete: 'username', required: '',
        autocapitalize: 'off', spellcheck: 'false',
      }],
    ]],
    ['div', { class: 'field' }, [
      ['label', { for: 'sign-in-password', 'data-i18n': 'signin.password' }],
      ['input', {
        id: 'sign-in-password', name: 'password', type: 'password',
        autocomplete: 'current-password', required: '',
      }],
    ]],
    ['p', { id: 'sign-in-error', class: 'form-error', role: 'alert', hidden: '' }],
    ['button', { id: 'sign-in-submit', type: 'submit', class: 'primary', 'data-i18n': 'signin.submit' }],
  ]],
];

/** What an operator who opens a manager page is told. */
export const FORBIDDEN_VIEW = [
  ['p', {
    id: 'forbidden-message', class: 'notice strong', role: 'alert', 'data-i18n': 'forbidden.message',
  }],
  ['p', { 'data-i18n': 'forbidden.hint' }],
  ['p', {}, [['a', { href: '/agent', 'data-i18n': 'forbidden.console' }]]],
];

/** The view for `user` (null: nobody signed in) on a page whose own view is `own`. */
export function viewFor(user, own) {
  if (!user) return 'sign_in';
  return mayWatch(user.role) ? own : 'forbidden';
}

/** What the form asks the server with, or null when the login or the password is missing. */
export function credentials(login, password) {
  const trimmed = String(login ?? '').trim();
  const given = String(password ?? '');
  return trimmed && given ? { login: trimmed, password: given } : null;
}

/**
 * The sign-in flow of one page. `session` is session.mjs's, `t(key, params)` the page's
 * words; `view` names the page's own view and its element. `onSignedIn(user)` comes when a
 * manager is in and the page's view is shown; `onSignedOut()` whenever the page's view is left
 * for the form or the notice, and before the session is ended on sign-out, so it may come
 * twice in a row. `onShow(view)` lets the page hide more when the view changes.
 */
export function createSignIn({
  session, t, view: own, onSignedIn, onSignedOut, onShow = () => {}, document = globalThis.document,
}) {
  let user = null;
  let view = 'loading';
  const $ = (id) => document.getElementById(id);

  function show(next) {
    view = next;
    $('loading').hidden = view !== 'loading';
    $('sign-in-view').hidden = view !== 'sign_in';
    $('forbidden-view').hidden = view !== 'forbidden';
    $(own.id).hidden = view !== own.name;
    $('sign-out').hidden = !user;
    $('who').hidden = !user;
    if (user) $('who').textContent = t('who', { login: user.login });
    onShow(view);
    if (view === 'sign_in') $('sign-in-login').focus();
  }

  function enter(notice = null) {
    const next = viewFor(user, own.name);
    if (next !== own.name) onSignedOut();
    if (next === 'sign_in') {
      const line = $('sign-in-notice');
      line.hidden = !notice;
      if (notice) line.textContent = t(notice);
    }
    show(next);
    if (next === own.name) onSignedIn(user);
  }

  async function signIn(event) {
    event.preventDefault();
    const error = $('sign-in-error');
    const given = credentials($('sign-in-login').value, $('sign-in-password').value);
    if (!given) {
      error.textContent = t('signin.error.required');
      error.hidden = false;
      return;
    }
    const submit = $('sign-in-submit');
    submit.disabled = true;
    submit.textContent = t('signin.submitting');
    try {
      user = await session.signIn(given.login, given.password);
      error.hidden = true;
      $('sign-in-password').value = '';
      enter();
    } catch (failure) {
      error.textContent = t(signInErrorKey(failure));
      error.hidden = false;
    } finally {
      submit.disabled = false;
      submit.textContent = t('signin.submit');
    }
  }

  async function signOut() {
    // The page lets go first: the board's streams would otherwise see the session end and
    // report it as expired.
    onSignedOut();
    await session.signOut().catch(() => {});
    user = null;
    enter('signin.signed_out');
  }

  function build(spec) {
    return spec.map(([tag, attributes, children = []]) => {
      const element = document.createElement(tag);
      for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
      if (attributes['data-i18n']) element.textContent = t(attributes['data-i18n']);
      element.append(...build(children));
      return element;
    });
  }

  return {
    get user() {
      return user;
    },
    get view() {
      return view;
    },
    /** Fills the two sections and listens to the form and the sign-out button. */
    wire() {
      $('sign-in-view').replaceChildren(...build(SIGN_IN_VIEW));
      $('forbidden-view').replaceChildren(...build(FORBIDDEN_VIEW));
      $('sign-in-form').addEventListener('submit', signIn);
      $('sign-out').addEventListener('click', signOut);
    },
    /** Asks who is signed in (no answer counts as nobody) and shows the view for them. */
    async start() {
      try {
        user = await session.current();
      } catch {
        user = null;
      }
      enter();
    },
    /** Shows the current view again (after the language changed). */
    render() {
      show(view);
    },
    /** The session ended (a 401): back to the form, saying so. */
    expired() {
      user = null;
      enter('signin.expired');
    },
    /** The server refused the signed-in user the page's data (a 403). */
    forbidden() {
      onSignedOut();
      show('forbidden');
    },
  };
}
