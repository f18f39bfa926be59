// Display formats shared by the views: durations as m:ss / h:mm:ss, clock times.

/** `seconds` as "m:ss", or "h:mm:ss" from an hour on; negative or missing shows 0:00. */
export function formatDuration(seconds) {
  const total = Number.isFinite(seconds) && seconds > 0 ? Math.floor(seconds) : 0;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  if (h > 0) return `${h}:${String(m).padStart(2, '0')}:${ss}`;
  return `${m}:${ss}`;
}

/** Whole seconds from `fromMs` to `nowMs`, never negative; null when `fromMs` is unknown. */
export function elapsedSeconds(fromMs, nowMs) {
  if (!Number.isFinite(fromMs)) return null;
  return Math.max(0, Math.floor((nowMs - fromMs) / 1000));
}

/** "HH:MM" of an instant in the browser's time zone, or "" when it is not a date. */
export function formatClock(value) {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  const hh = String(date.getHours()).padStart(2, '0');
  const mm = String(date.getMinutes()).padStart(2, '0');
  return `${hh}:${mm}`;
}
