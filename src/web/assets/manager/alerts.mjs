// Complaint alerts as the engine pushes them (`complaint` events of
// /api/v1/complaints/stream) and as it lists those already filed today
// (GET /api/v1/complaints, in the same shape): read, kept newest first without repeats,
// and worded for the banner and the screen reader. They hold no caller number or note, only
// who and what.
//
// The list is fetched each time the stream (re)opens, so a complaint filed before the board
// was open, or while its stream was down, is shown too. The banner is for news: the first
// listing after sign-in is history and raises none; a later one (after a reconnect) raises
// the newest complaint it brings that the board had not shown.

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

/** The alerts of a GET /api/v1/complaints answer, as sent (newest first); junk is skipped. */
export function readComplaintList(data, receivedMs) {
  const list = Array.isArray(data?.complaints) ? data.complaints : [];
  return list.map((item) => readComplaint(item, receivedMs)).filter(Boolean);
}

/**
 * The board's `list` with the listed alerts `fetched` merged in, newest first, one per call
 * (the later filing of a call wins; on a tie, the one already shown). `raise` is the alert
 * for the banner, or null: never on the `first` listing, else the newest listed alert the
 * board had not shown.
 */
export function mergeListed(list, fetched, { first, keep = KEEP }) {
  const byCall = new Map(list.map((alert) => [alert.callId, alert]));
  const added = [];
  for (const alert of fetched) {
    const shown = byCall.get(alert.callId);
    if (!shown) added.push(alert);
    if (!shown || alert.atMs > shown.atMs) byCall.set(alert.callId, alert);
  }
  const merged = [...byCall.values()].sort((a, b) => b.atMs - a.atMs).slice(0, keep);
  const kept = added.filter((alert) => merged.includes(alert));
  const newest = kept.reduce((best, alert) => (!best || alert.atMs > best.atMs ? alert : best), null);
  return { list: merged, raise: first ? null : newest };
}

/** Today's complaints from the engine (the session cookie goes along); throws on failure. */
export async function fetchComplaints(fetchImpl = globalThis.fetch.bind(globalThis), keep = KEEP) {
  const response = await fetchImpl(`/api/v1/complaints?limit=${keep}`, {
    credentials: 'same-origin',
    headers: { accept: 'application/json' },
  });
  if (!response.ok) throw new Error(`GET /api/v1/complaints: HTTP ${response.status}`);
  return readComplaintList(await response.json(), Date.now());
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
