// The interval chart's geometry (src/web/assets/manager/chart.mjs): which half-hours are
// drawn, the axis top, and bars in proportion.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { visibleRange, niceMax, chartModel, DAY_FIRST, DAY_END } from '../../src/web/assets/manager/chart.mjs';

function day(traffic = {}) {
  return Array.from({ length: 48 }, (_, i) => {
    const start = `${String(Math.floor(i / 2)).padStart(2, '0')}:${i % 2 ? '30' : '00'}`;
    return { start, offered: 0, answered: 0, abandoned: 0, ...(traffic[start] ?? {}) };
  });
}

test('a quiet day shows 08:00 to 18:00', () => {
  assert.deepEqual(visibleRange(day()), [DAY_FIRST, DAY_END]);
  const model = chartModel(day());
  assert.equal(model.groups[0].start, '08:00');
  assert.equal(model.groups.at(-1).start, '17:30');
});

test('traffic outside 08:00–18:00 widens the range to include it', () => {
  const intervals = day({ '07:00': { offered: 1 }, '19:30': { offered: 2, abandoned: 1 } });
  const [first, end] = visibleRange(intervals);
  assert.equal(intervals[first].start, '07:00');
  assert.equal(intervals[end - 1].start, '19:30');
});

test('the axis top is a round number at or above the busiest interval, at least 5', () => {
  assert.equal(niceMax(0), 5);
  assert.equal(niceMax(3), 5);
  assert.equal(niceMax(7), 10);
  assert.equal(niceMax(13), 20);
  assert.equal(niceMax(20), 20);
  assert.equal(niceMax(51), 100);
});

test('bars are in proportion to their counts and stand on the baseline', () => {
  const model = chartModel(day({ '09:00': { offered: 10, answered: 5, abandoned: 0 } }),
    { width: 800, height: 240, left: 40, bottom: 20, top: 20 });
  assert.equal(model.max, 10);
  const nine = model.groups.find((g) => g.start === '09:00');
  const [offered, answered, abandoned] = nine.bars;
  assert.equal(offered.series, 'offered');
  assert.equal(offered.height, 200);
  assert.equal(answered.height, 100);
  assert.equal(abandoned.height, 0);
  for (const bar of nine.bars) assert.equal(bar.y + bar.height, model.baseline);
});

test('bars stay inside the chart and do not overlap their neighbours', () => {
  const model = chartModel(day({ '12:00': { offered: 3, answered: 2, abandoned: 1 } }), { width: 600, left: 30 });
  let right = model.left;
  for (const group of model.groups) {
    for (const bar of group.bars) {
      assert.ok(bar.x >= right - 1e-9, `${group.start} ${bar.series} starts before the previous bar ends`);
      right = bar.x + bar.width;
    }
  }
  assert.ok(right <= 600);
});

test('only whole hours are labelled', () => {
  const labels = chartModel(day()).groups.filter((g) => g.label).map((g) => g.label);
  assert.deepEqual(labels, ['8:00', '9:00', '10:00', '11:00', '12:00', '13:00', '14:00', '15:00', '16:00', '17:00']);
});

test('ticks mark zero, half and the top', () => {
  const model = chartModel(day({ '10:00': { offered: 8 } }));
  assert.deepEqual(model.ticks.map((t) => t.value), [0, 5, 10]);
  assert.equal(model.ticks[0].y, model.baseline);
});

test('a top of 5 has no middle line, so no tick reads 2.5', () => {
  assert.deepEqual(chartModel(day()).ticks.map((t) => t.value), [0, 5]);
});

test('when an hour is narrower than a label, labels go to every other hour', () => {
  const labels = chartModel(day(), { width: 440, left: 40, labelGap: 60 })
    .groups.filter((g) => g.label).map((g) => g.label);
  assert.deepEqual(labels, ['8:00', '10:00', '12:00', '14:00', '16:00']);
});
