// Two-press confirmation for actions that cannot be undone (the transfer to the city line):
// the first press arms the button, a second press within the window carries it out. One
// deliberate double press is as fast as one click, and a stray click does nothing.

export const CONFIRM_WINDOW_MS = 3000;

/**
 * One press at `now` on a button armed at `armedAt` (null when not armed).
 * Returns whether to act and the new armed instant.
 */
export function pressConfirm(armedAt, now, windowMs = CONFIRM_WINDOW_MS) {
  if (armedAt !== null && now >= armedAt && now - armedAt <= windowMs) {
    return { fire: true, armedAt: null };
  }
  return { fire: false, armedAt: now };
}

/** Whether a button armed at `armedAt` is still armed at `now`. */
export function isArmed(armedAt, now, windowMs = CONFIRM_WINDOW_MS) {
  return armedAt !== null && now >= armedAt && now - armedAt <= windowMs;
}
