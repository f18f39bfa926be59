// The geometry of today's chart: calls per 30-minute interval, offered / answered / abandoned
// side by side. Pure: it returns rectangles and labels in the SVG's own units; board.mjs draws
// them. Shown are the center's working day (08:00–18:00) and any other interval with traffic.

export const SERIES = ['offered', 'answered', 'abandoned'];
/** 08:00 and 18:00 as indexes of the day's 48 half-hours. */
export const DAY_FIRST = 16;
export const DAY_END = 36;

/** The [first, end) indexes of the intervals to draw. */
export function visibleRange(intervals) {
  let first = DAY_FIRST;
  let end = Math.min(DAY_END, intervals.length);
  intervals.forEach((interval, index) => {
    if (interval.offered > 0 || interval.answered > 0 || interval.abandoned > 0) {
      first = Math.min(first, index);
      end = Math.max(end, index + 1);
    }
  });
  return [Math.min(first, end), end];
}

/** A round top for the axis at or above `max`: 1, 2 or 5 times a power of ten, at least 5. */
export function niceMax(max) {
  const value = Math.max(5, Number.isFinite(max) ? max : 0);
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) {
    if (step * power >= value) return step * power;
  }
  return 10 * power;
}

/**
 * Bars, axis ticks and hour labels for a chart of `width`×`height` units with room for the
 * axis on the left and the labels below; hour labels at least `labelGap` units apart.
 */
export function chartModel(intervals, {
  width = 800, height = 240, left = 36, bottom = 22, top = 8, labelGap = 40,
} = {}) {
  const [first, end] = visibleRange(intervals);
  const shown = intervals.slice(first, end);
  const max = niceMax(Math.max(0, ...shown.flatMap((i) => SERIES.map((s) => i[s]))));
  const plotHeight = height - top - bottom;
  const slot = shown.length > 0 ? (width - left) / shown.length : 0;
  const barWidth = (slot * 0.8) / SERIES.length;
  const y = (value) => top + plotHeight - (value / max) * plotHeight;
  // Label every hour, or every 2, 3, 4 or 6 hours when an hour is narrower than a label.
  const hoursPerLabel = [1, 2, 3, 4, 6].find((hours) => hours * 2 * slot >= labelGap) ?? 12;
  const groups = shown.map((interval, n) => {
    const x0 = left + n * slot + slot * 0.1;
    return {
      start: interval.start,
      index: first + n,
      label: (first + n) % (hoursPerLabel * 2) === 0 ? interval.start.replace(/^0/, '') : null,
      labelX: left + n * slot + slot / 2,
      bars: SERIES.map((series, k) => ({
        series,
        value: interval[series],
        x: x0 + k * barWidth,
        y: y(interval[series]),
        width: Math.max(0, barWidth - 1),
        height: top + plotHeight - y(interval[series]),
      })),
    };
  });
  // Whole numbers only: the middle line where half the top is one.
  const tickValues = max % 2 === 0 ? [0, max / 2, max] : [0, max];
  const ticks = tickValues.map((value) => ({ value, y: y(value) }));
  return { max, ticks, groups, baseline: top + plotHeight, left, width, height };
}
