// Keyboard shortcuts of the console (listed on the page): while a call is offered, Enter or
// Space answers and Escape declines. Typing in a text field is never taken as an answer, and
// Enter on another focused control (the decline button, a link) keeps its own meaning.
// On a call, F8 pauses or resumes the recording: a function key types nothing, so it works
// while the operator is writing the note, which is when a caller starts reading out a PIN.

/** The key that pauses and resumes the recording. */
export const RECORDING_KEY = 'F8';

/**
 * The action a key press stands for.
 * `key` is KeyboardEvent.key, `repeat` its auto-repeat flag, `focus` what has the focus
 * ('none', 'answer' for the answer button, 'text' for a field that takes typing, 'control'
 * for any other button, link or choice), `call` the console's current call (or null).
 * Returns 'answer', 'decline', 'recording_toggle' or null.
 */
export function shortcutAction({ key, repeat, focus, call }) {
  if (repeat || !call) return null;
  if (key === RECORDING_KEY) {
    const running = call.recording?.state === 'recording' || call.recording?.state === 'paused';
    return call.phase === 'connected' && running ? 'recording_toggle' : null;
  }
  if (call.phase !== 'offered' || call.answering) return null;
  if (key === 'Escape' || key === 'Esc') return 'decline';
  if (focus === 'text' || focus === 'control') return null;
  if (key === 'Enter' || key === ' ' || key === 'Spacebar') return 'answer';
  return null;
}

const TEXT_INPUT_TYPES = new Set([
  'text', 'search', 'password', 'email', 'number', 'tel', 'url', '',
]);

/**
 * What kind of focus an element is, for `shortcutAction`.
 * `element` needs only tagName, type, id and isContentEditable, so tests can pass plain objects.
 */
export function focusKind(element, answerButtonId = 'answer') {
  if (!element) return 'none';
  if (element.isContentEditable) return 'text';
  const tag = String(element.tagName || '').toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT') return 'text';
  if (tag === 'INPUT') {
    return TEXT_INPUT_TYPES.has(String(element.type || '').toLowerCase()) ? 'text' : 'control';
  }
  if (tag === 'BUTTON') return element.id === answerButtonId ? 'answer' : 'control';
  if (tag === 'A' || tag === 'SUMMARY') return 'control';
  return 'none';
}
