// Complaint alerts as the engine pushes them (`complaint` events of
// /api/v1/complaints/stream): read, kept newest first without repeats, and worded for the
// banner and the screen reader. They hold no caller number or note, only who and what.

/** How many alerts the board keeps. */
export const KEEP = 50;

/** An alert from an event's data, or null when it names no call. */
export function readComplaint(data, receivedMs) {
  if (!data || typeof data !== 'object' || typeof data.call_id !== 'string' || !data.call_id) {
    return null;
  }
  const at = Date.parse(data.at);
  return {
    callId: data.call_id,
    operator: typeof data.operator === 'string' ? data.operator : '',
    category: typeof data.category === 'string' ? data.category : '',
    outcome: typeof data.outcome === 'string' ? data.outcome : '',
    atMs: Number.isFinite(at) ? at : receivedMs,
  };
}

/** The list with `alert` in front; a call already listed is replaced (filed again). */
export function addAlert(list, alert, keep = KEEP) {
  if (!alert) return list;
  return [alert, ...list.filter((a) => a.callId !== alert.callId)].slice(0, keep);
}

/** "イ カードの申請" from a category code and the configured categories ({code, label}). */
export function categoryText(code, categories) {
  const found = categories.find((c) => c.code === code);
  return found && found.label ? `${code} ${found.label}` : code;
}

/** The category list of GET /api/v1/categories, tolerant of its envelope. */
export function readCategories(data) {
  const list = Array.isArray(data) ? data : (Array.isArray(data?.categories) ? data.categories : []);
  return list
    .filter((c) => c && typeof c.code === 'string')
    .map((c) => ({ code: c.code, label: typeof c.label === 'string' ? c.label : (c.name ?? '') }));
}
