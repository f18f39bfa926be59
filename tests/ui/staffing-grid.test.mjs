// The staffing page's grid (src/web/assets/manager/staffing-grid.mjs): the API's typical week
// read, laid out as interval rows × weekday columns with a peak per day, cells shaded by the
// seats they need, and the grid as CSV.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  addMinutes, buildGrid, gridCsv, readWeek, shade, spanDates, SHADES, WEEKDAYS,
} from '../../src/web/assets/manager/staffing-grid.mjs';

/** An interval of the API's answer; `agents` null for one without a handling time. */
function interval(start, { arrivals = 0, agents = 0, aht = 180 } = {}) {
  const idle = arrivals === 0;
  return {
    start,
    arrivals,
    arrivals_per_hour: arrivals / 2,
    handled: arrivals,
    aht_s: aht,
    agents,
    service_level: idle ? 1 : 0.85,
    asa_s: idle ? 0 : 7.5,
    occupancy: idle ? 0 : 0.6,
  };
}

/** The API's answer for a week whose traffic is `traffic[weekday][HH:MM]` = {arrivals, agents}. */
function answer(traffic = {}, extra = {}) {
  return {
    target: 0.8,
    threshold_s: 20,
    weeks: 4,
    time_zone: 'Asia/Tokyo',
    from: '2026-11-08T15:00:00Z',
    to: '2026-12-06T15:00:00Z',
    arrivals: 0,
    handled: 0,
    aht_s: 180,
    days: WEEKDAYS.map((weekday) => {
      const intervals = Array.from({ length: 48 }, (_, i) => {
        const start = `${String(Math.floor(i / 2)).padStart(2, '0')}:${i % 2 ? '30' : '00'}`;
        return interval(start, traffic[weekday]?.[start]);
      });
      return {
        weekday,
        peak_agents: Math.max(0, ...intervals.map((i) => i.agents ?? 0)),
        intervals,
      };
    }),
    ...extra,
  };
}

test('a week of the API is read with its figures in camelCase', () => {
  const week = readWeek(answer({ mon: { '10:00': { arrivals: 40, agents: 3 } } }));
  assert.equal(week.target, 0.8);
  assert.equal(week.thresholdS, 20);
  assert.equal(week.timeZone, 'Asia/Tokyo');
  assert.equal(week.days.length, 7);
  assert.equal(week.days[0].peakAgents, 3);
  const ten = week.days[0].intervals[20];
  assert.deepEqual(ten, {
    start: '10:00', arrivals: 40, arrivalsPerHour: 20, handled: 40, ahtS: 180, agents: 3,
    serviceLevel: 0.85, asaS: 7.5, occupancy: 0.6,
  });
});

test('an answer that is not a week Monday to Sunday is refused', () => {
  assert.equal(readWeek(null), null);
  assert.equal(readWeek({ error: 'store unavailable' }), null);
  const sixDays = answer();
  sixDays.days.pop();
  assert.equal(readWeek(sixDays), null);
  const sundayFirst = answer();
  sundayFirst.days.unshift(sundayFirst.days.pop());
  assert.equal(readWeek(sundayFirst), null);
});

test('rows run from the first interval with calls on any day to the last, quiet ones between included', () => {
  const grid = buildGrid(readWeek(answer({
    tue: { '09:00': { arrivals: 10, agents: 2 } },
    sat: { '11:30': { arrivals: 4, agents: 1 } },
  })));
  assert.deepEqual(grid.rows.map((row) => row.start), ['09:00', '09:30', '10:00', '10:30', '11:00', '11:30']);
  assert.equal(grid.rows[0].end, '09:30');
  assert.deepEqual(grid.rows[0].cells.map((cell) => cell.weekday), WEEKDAYS);
  assert.deepEqual(grid.rows[0].cells.map((cell) => cell.agents), [0, 2, 0, 0, 0, 0, 0]);
  assert.equal(grid.rows[5].cells[5].agents, 1);
  assert.equal(grid.empty, false);
});

test('each day has its peak, and the week its most', () => {
  const grid = buildGrid(readWeek(answer({
    mon: { '10:00': { arrivals: 180, agents: 7 }, '10:30': { arrivals: 20, agents: 3 } },
    thu: { '14:00': { arrivals: 10, agents: 2 } },
  })));
  assert.deepEqual(grid.peaks.map((p) => p.agents), [7, 0, 0, 2, 0, 0, 0]);
  assert.equal(grid.maxAgents, 7);
  const ten = grid.rows.find((row) => row.start === '10:00').cells[0];
  const halfPast = grid.rows.find((row) => row.start === '10:30').cells[0];
  assert.equal(ten.peak, true, 'the day’s busiest interval is marked');
  assert.equal(halfPast.peak, false);
});

test('a week without calls is empty: no rows, a peak of 0 every day', () => {
  const grid = buildGrid(readWeek(answer({}, { aht_s: null })));
  assert.equal(grid.empty, true);
  assert.deepEqual(grid.rows, []);
  assert.deepEqual(grid.peaks.map((p) => p.agents), [0, 0, 0, 0, 0, 0, 0]);
});

test('the last interval of the day ends at 24:00', () => {
  assert.equal(addMinutes('23:30', 30), '24:00');
  assert.equal(addMinutes('08:30', 30), '09:00');
  const grid = buildGrid(readWeek(answer({ sun: { '23:30': { arrivals: 1, agents: 1 } } })));
  assert.equal(grid.rows.at(-1).end, '24:00');
});

test('shades grow with the seats, the week’s most being the darkest', () => {
  assert.equal(shade(0, 7), 0);
  assert.equal(shade(7, 7), SHADES);
  assert.equal(shade(1, 7), 1);
  assert.equal(shade(4, 8), 3);
  const shades = [1, 2, 3, 4, 5, 6, 7].map((agents) => shade(agents, 7));
  assert.deepEqual([...shades].sort((a, b) => a - b), shades, 'never lighter for more seats');
  assert.ok(shades.every((s) => s >= 1 && s <= SHADES));
});

test('a cell whose seats cannot be computed is shaded as unknown, not as zero', () => {
  assert.equal(shade(null, 5), 'unknown');
  const grid = buildGrid(readWeek(answer({ wed: { '10:00': { arrivals: 3, agents: null, aht: null } } },
    { aht_s: null })));
  const cell = grid.rows[0].cells[2];
  assert.equal(cell.agents, null);
  assert.equal(cell.shade, 'unknown');
  assert.equal(cell.peak, false);
});

test('the CSV has a header of weekdays, a line per interval and the peaks, with CRLF', () => {
  const grid = buildGrid(readWeek(answer({
    mon: { '10:00': { arrivals: 180, agents: 7 } },
    fri: { '10:30': { arrivals: 2, agents: null } },
  })));
  const csv = gridCsv(grid, {
    interval: '時間帯', weekdays: ['月', '火', '水', '木', '金', '土', '日'], peak: 'ピーク',
  });
  assert.equal(csv, [
    '時間帯,月,火,水,木,金,土,日',
    '10:00-10:30,7,0,0,0,0,0,0',
    '10:30-11:00,0,0,0,0,,0,0',
    'ピーク,7,0,0,0,0,0,0',
    '',
  ].join('\r\n'));
});

test('a CSV label with a comma or a quote is quoted', () => {
  const grid = buildGrid(readWeek(answer({ mon: { '10:00': { arrivals: 1, agents: 1 } } })));
  const csv = gridCsv(grid, {
    interval: 'Interval, local', weekdays: WEEKDAYS, peak: 'Peak "max"',
  });
  assert.ok(csv.startsWith('"Interval, local",mon,'), csv);
  assert.ok(csv.includes('"Peak ""max""",1,'), csv);
});

test('the measured span is shown as its first and last local day', () => {
  // 15:00 UTC is midnight in Tokyo: the span is 2026-11-09 up to and including 2026-12-06.
  assert.deepEqual(spanDates('2026-11-08T15:00:00Z', '2026-12-06T15:00:00Z', 'Asia/Tokyo'),
    { first: '2026-11-09', last: '2026-12-06' });
  assert.deepEqual(spanDates('not a date', null, 'Asia/Tokyo'), { first: null, last: null });
});
