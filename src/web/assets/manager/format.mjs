// Display formats of the board: durations as m:ss, ratios as whole percents, clock times.
// A figure the engine has no value for yet (null: nothing offered or answered) shows "—".

export const NONE = '—';

/** `seconds` as "m:ss", or "h:mm:ss" from an hour on, rounded to the second; null is "—". */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return NONE;
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const ss = String(total % 60).padStart(2, '0');
  if (h > 0) return `${h}:${String(m).padStart(2, '0')}:${ss}`;
  return `${m}:${ss}`;
}

/** A ratio 0..1 as a whole percent ("85%"); null is "—". */
export function formatPercent(ratio) {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return NONE;
  return `${Math.round(Math.min(1, Math.max(0, ratio)) * 100)}%`;
}

/** A count as written in Japan and elsewhere: digits grouped by thousands. */
export function formatCount(n) {
  if (!Number.isFinite(n)) return NONE;
  return Math.round(n).toLocaleString('en-US');
}

/** "HH:MM:SS" of an instant in the browser's time zone, or "" when it is not a date. */
export function formatClockTime(value) {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  return [date.getHours(), date.getMinutes(), date.getSeconds()]
    .map((part) => String(part).padStart(2, '0'))
    .join(':');
}

/**
 * How good a service level is against its target, for colouring: 'good' at or above the
 * target, 'warn' within 10 points below, 'bad' further below, 'none' without a value.
 */
export function serviceLevelGrade(ratio, target = 0.8) {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return 'none';
  if (ratio >= target) return 'good';
  if (ratio >= target - 0.1) return 'warn';
  return 'bad';
}
