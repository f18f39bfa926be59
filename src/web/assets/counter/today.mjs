// Today at the counter, as the page shows it: the counts by kind, the rows of the list, the
// day's hours in words, and which cases the signed-in person may still correct. Pure
// functions of the API's answers (see api.mjs for their parsed form).

import { KINDS } from './entry.mjs';

/**
 * [{kind, count}] for every kind in report order, and the total. The server's counts cover
 * the whole day (`byKind`); without them the listed cases are counted.
 */
export function kindCounts(byKind, cases = []) {
  const known = byKind && byKind.length > 0;
  const counts = KINDS.map((kind) => ({
    kind,
    count: known
      ? (byKind.find((c) => c.kind === kind)?.count ?? 0)
      : cases.filter((c) => c.kind === kind).length,
  }));
  return { counts, total: counts.reduce((sum, c) => sum + c.count, 0) };
}

/**
 * The day's hours as a message key and its parameters:
 * open → 'hours.open' {from, to}; closed → 'hours.closed.<reason>' {label}; unknown →
 * 'hours.unknown'. For today (`openNow` known) the open key also says whether it is open now.
 */
export function hoursMessage(hours) {
  if (!hours) return { key: 'hours.unknown', params: {} };
  if (hours.open) {
    const key = hours.openNow === false ? 'hours.open_closed_now'
      : hours.openNow === true ? 'hours.open_now' : 'hours.open';
    return { key, params: { from: hours.from ?? '', to: hours.to ?? '' } };
  }
  const reason = ['holiday', 'year_end', 'special', 'no_hours'].includes(hours.closedReason)
    ? hours.closedReason : 'no_hours';
  return { key: `hours.closed.${reason}`, params: { label: hours.label ?? '' } };
}

/** "HH:MM" of an instant in the counter's time zone (the browser's when not given). */
export function clockTime(at, timeZone) {
  const date = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(date.getTime())) return '';
  try {
    return new Intl.DateTimeFormat('en-GB', {
      hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: timeZone || undefined,
    }).format(date);
  } catch {
    // An unknown zone name: the browser's own zone rather than nothing.
    return clockTime(date, undefined);
  }
}

/**
 * Whether `session` may correct `item` today: managers always; staff their own cases of the
 * counter's day `today` (YYYY-MM-DD, from the hours answer). The server decides in the end.
 */
export function canCorrect(item, session, today, timeZone) {
  if (!session || !item) return false;
  if (session.role === 'manager' || session.role === 'admin') return true;
  if (item.staff !== session.login) return false;
  return localDate(item.at, timeZone) === today;
}

/** "YYYY-MM-DD" of an instant in `timeZone`. */
export function localDate(at, timeZone) {
  const date = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(date.getTime())) return '';
  try {
    const parts = new Intl.DateTimeFormat('en-CA', {
      year: 'numeric', month: '2-digit', day: '2-digit', timeZone: timeZone || undefined,
    }).formatToParts(date);
    const part = (type) => parts.find((p) => p.type === type)?.value ?? '';
    return `${part('year')}-${part('month')}-${part('day')}`;
  } catch {
    return localDate(date, undefined);
  }
}

/**
 * The fee column of a row: 'fee.confirmed', 'fee.not_confirmed', or null when the kind has
 * no fee question.
 */
export function feeKey(item) {
  if (item.feeConfirmed === true) return 'fee.confirmed';
  if (item.feeConfirmed === false) return 'fee.not_confirmed';
  return null;
}

/** Cases newest first (by instant, then id), whatever order they came in. */
export function newestFirst(cases) {
  return [...cases].sort((a, b) => {
    const byTime = Date.parse(b.at) - Date.parse(a.at);
    if (byTime !== 0 && !Number.isNaN(byTime)) return byTime;
    return String(b.id).localeCompare(String(a.id));
  });
}
