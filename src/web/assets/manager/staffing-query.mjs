// The staffing page's question: the form's fields (service level in percent, answer threshold,
// weeks measured, an optional AHT) checked and turned into the query of GET /api/v1/staffing,
// and back from an answer or the page's address. The API's own limits are checked here first
// so a person gets a message in their language, not the server's English.

export const MAX_WEEKS = 52;
/** Up to 10 hours: anything longer is a typo, not a handling time. */
export const MAX_AHT_S = 36000;
/** An hour: the longest answer threshold that is still a service-level goal. */
export const MAX_THRESHOLD_S = 3600;

/** A number typed into a field (a comma as decimal point is taken too), or null. */
function typed(text) {
  const trimmed = String(text ?? '').trim().replace(',', '.');
  if (trimmed === '' || !/^[0-9]*\.?[0-9]+$/.test(trimmed)) return null;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : null;
}

/** `value` without the noise of binary fractions (0.9 × 100 = 90.00000000000001). */
function tidy(value) {
  return Number(value.toFixed(6));
}

/**
 * The form's texts {targetPercent, thresholdS, weeks, ahtS} checked: `{params}` for the
 * query ({target, threshold, weeks} and `aht` when one was typed), or `{field, error}`, the
 * first field in error and the message key.
 */
export function readForm(values) {
  const percent = typed(values.targetPercent);
  if (percent === null || percent <= 0 || percent >= 100) {
    return { field: 'targetPercent', error: 'form.error.target' };
  }
  const threshold = typed(values.thresholdS);
  if (threshold === null || threshold > MAX_THRESHOLD_S) {
    return { field: 'thresholdS', error: 'form.error.threshold' };
  }
  const weeks = typed(values.weeks);
  if (weeks === null || !Number.isInteger(weeks) || weeks < 1 || weeks > MAX_WEEKS) {
    return { field: 'weeks', error: 'form.error.weeks' };
  }
  const params = { target: tidy(percent / 100), threshold, weeks };
  if (String(values.ahtS ?? '').trim() !== '') {
    const aht = typed(values.ahtS);
    if (aht === null || aht <= 0 || aht > MAX_AHT_S) {
      return { field: 'ahtS', error: 'form.error.aht' };
    }
    params.aht = aht;
  }
  return { params };
}

/** The query string of `params` (no "?"): target, threshold, weeks, then aht if given. */
export function queryString(params) {
  const query = new URLSearchParams();
  for (const key of ['target', 'threshold', 'weeks', 'aht']) {
    if (params[key] !== undefined && params[key] !== null) query.set(key, String(params[key]));
  }
  return query.toString();
}

/**
 * The question in the page's address (`?target=0.9&threshold=10…`), checked as the form
 * checks it; null when there is none or it does not hold, so the API's defaults apply.
 */
export function paramsFromSearch(search) {
  const query = new URLSearchParams(search);
  if (!query.has('target') && !query.has('threshold') && !query.has('weeks')) return null;
  const target = typed(query.get('target'));
  const read = readForm({
    targetPercent: target === null ? '' : String(tidy(target * 100)),
    thresholdS: query.get('threshold') ?? '',
    weeks: query.get('weeks') ?? '',
    ahtS: query.get('aht') ?? '',
  });
  return read.params ?? null;
}

/**
 * The form's texts for an answer of the API (its target, threshold and weeks), the AHT
 * field holding `givenAht` (the one asked for) or nothing, so the measured one is used.
 */
export function formFromWeek(week, givenAht) {
  return {
    targetPercent: week.target === null ? '' : String(tidy(week.target * 100)),
    thresholdS: week.thresholdS === null ? '' : String(week.thresholdS),
    weeks: String(week.weeks),
    ahtS: givenAht === undefined || givenAht === null ? '' : String(givenAht),
  };
}
