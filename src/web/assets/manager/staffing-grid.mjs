// The staffing page's pure logic: the typical week of GET /api/v1/staffing read and laid out
// as the grid the page draws — rows of 30-minute intervals, columns Monday to Sunday, a peak
// per day — with each cell's shade and the grid as CSV. No DOM here; staffing.mjs draws.
//
// Rows run from the first interval with arrivals on any day to the last one, every interval
// between included, so a quiet half-hour inside the day still shows (as 0) and the night
// does not.

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
/** Shades of a cell that needs seats: 1 (fewest) to SHADES (the week's most). */
export const SHADES = 5;
const INTERVAL_MINUTES = 30;

/** A finite number, or null. */
function number(value) {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function count(value) {
  const n = number(value);
  return n === null ? 0 : Math.max(0, Math.round(n));
}

/**
 * The API's answer as the page uses it (camelCase, numbers checked), or null when it is not a
 * week: seven days Monday to Sunday, each with its intervals.
 */
export function readWeek(data) {
  if (!data || typeof data !== 'object' || !Array.isArray(data.days)) return null;
  const days = data.days.map((day) => ({
    weekday: day?.weekday,
    peakAgents: count(day?.peak_agents),
    intervals: Array.isArray(day?.intervals)
      ? day.intervals
        .filter((i) => i && typeof i.start === 'string' && /^\d\d:\d\d$/.test(i.start))
        .map(readInterval)
      : [],
  }));
  if (days.length !== WEEKDAYS.length || days.some((day, k) => day.weekday !== WEEKDAYS[k])) {
    return null;
  }
  return {
    target: number(data.target),
    thresholdS: number(data.threshold_s),
    weeks: count(data.weeks),
    timeZone: typeof data.time_zone === 'string' ? data.time_zone : 'UTC',
    from: typeof data.from === 'string' ? data.from : null,
    to: typeof data.to === 'string' ? data.to : null,
    arrivals: count(data.arrivals),
    handled: count(data.handled),
    ahtS: number(data.aht_s),
    days,
  };
}

function readInterval(interval) {
  const agents = number(interval.agents);
  return {
    start: interval.start,
    arrivals: count(interval.arrivals),
    arrivalsPerHour: number(interval.arrivals_per_hour) ?? 0,
    handled: count(interval.handled),
    ahtS: number(interval.aht_s),
    agents: agents === null ? null : Math.max(0, Math.round(agents)),
    serviceLevel: number(interval.service_level),
    asaS: number(interval.asa_s),
    occupancy: number(interval.occupancy),
  };
}

/** "HH:MM" plus `minutes`, up to "24:00" for the end of the last interval. */
export function addMinutes(start, minutes) {
  const [h, m] = start.split(':').map(Number);
  const total = h * 60 + m + minutes;
  return `${String(Math.floor(total / 60)).padStart(2, '0')}:${String(total % 60).padStart(2, '0')}`;
}

/**
 * How dark a cell is: 'unknown' when its seats cannot be computed (calls but no handling
 * time), 0 when it needs none, else 1..SHADES in proportion to the week's most `max`.
 */
export function shade(agents, max) {
  if (agents === null || agents === undefined || !Number.isFinite(agents)) return 'unknown';
  if (agents <= 0) return 0;
  if (!(max > 0)) return SHADES;
  return Math.min(SHADES, Math.max(1, Math.ceil((agents / max) * SHADES)));
}

/**
 * The grid of a week read by readWeek: `rows` of {start, end, cells} (one cell per weekday,
 * the interval's figures plus `weekday`, `shade` and `peak`, whether it is its day's most),
 * `peaks` per weekday, the week's `maxAgents`, and `empty` when no call arrived.
 */
export function buildGrid(week) {
  const starts = week.days[0]?.intervals.map((i) => i.start) ?? [];
  let first = starts.length;
  let end = 0;
  for (const day of week.days) {
    day.intervals.forEach((interval, index) => {
      if (interval.arrivals > 0) {
        first = Math.min(first, index);
        end = Math.max(end, index + 1);
      }
    });
  }
  const peaks = week.days.map((day) => ({ weekday: day.weekday, agents: day.peakAgents }));
  const maxAgents = Math.max(0, ...peaks.map((p) => p.agents));
  const rows = [];
  for (let index = first; index < end; index += 1) {
    const start = starts[index];
    rows.push({
      start,
      end: addMinutes(start, INTERVAL_MINUTES),
      cells: week.days.map((day) => {
        const interval = day.intervals.find((i) => i.start === start)
          ?? { start, arrivals: 0, arrivalsPerHour: 0, handled: 0, ahtS: null, agents: 0,
            serviceLevel: null, asaS: null, occupancy: null };
        return {
          ...interval,
          weekday: day.weekday,
          shade: shade(interval.agents, maxAgents),
          peak: interval.agents !== null && interval.agents > 0 && interval.agents === day.peakAgents,
        };
      }),
    });
  }
  return { rows, peaks, maxAgents, empty: rows.length === 0 };
}

/** One CSV field, quoted when it holds a comma, a quote or a line break. */
function csvField(value) {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The grid's seats as CSV (CRLF lines): a header of `labels.interval` and the weekday names
 * `labels.weekdays`, one line per interval ("10:00-10:30"), then `labels.peak` per day. A
 * cell without a figure is empty.
 */
export function gridCsv(grid, labels) {
  const lines = [[labels.interval, ...labels.weekdays]];
  for (const row of grid.rows) {
    lines.push([`${row.start}-${row.end}`, ...row.cells.map((cell) => cell.agents)]);
  }
  lines.push([labels.peak, ...grid.peaks.map((p) => p.agents)]);
  return `${lines.map((line) => line.map(csvField).join(',')).join('\r\n')}\r\n`;
}

/**
 * The measured span as local dates "YYYY-MM-DD": its first day and its last (the day before
 * `to`, which is the midnight ending it). Null for a date that cannot be read.
 */
export function spanDates(from, to, timeZone) {
  const day = (instant) => {
    const date = new Date(instant);
    if (Number.isNaN(date.getTime())) return null;
    let format;
    try {
      format = new Intl.DateTimeFormat('en-CA', {
        timeZone, year: 'numeric', month: '2-digit', day: '2-digit',
      });
    } catch {
      return date.toISOString().slice(0, 10);
    }
    return format.format(date);
  };
  const last = to ? new Date(new Date(to).getTime() - 1) : null;
  return { first: from ? day(from) : null, last: last ? day(last) : null };
}
