// Reconnect schedule of the console's WebSocket (docs/console-protocol.md): 0.5 s, 1 s,
// 2 s, 4 s, 8 s, then every 10 s until a connection is greeted again; and with several
// nodes, which node each attempt goes to (docs/continuity-design.md §3 "Consoles").

export const FIRST_DELAY_MS = 500;
export const MAX_DELAY_MS = 10_000;

/** Delay before reconnect attempt `attempt` (0 for the first after a drop). */
export function reconnectDelay(attempt) {
  const n = Number.isInteger(attempt) && attempt > 0 ? attempt : 0;
  // 2 ** 5 already passes the cap; stop doubling there so large attempts stay finite.
  return Math.min(FIRST_DELAY_MS * 2 ** Math.min(n, 5), MAX_DELAY_MS);
}

/**
 * Where the next attempt goes after a failed one: the node after `current` in `urls` (the
 * page's own node first, then the other live nodes), back to the first after the last. A
 * `current` no longer in the list (the list changed) starts again from the first.
 */
export function nextUrl(urls, current) {
  if (urls.length === 0) return current;
  return urls[(urls.indexOf(current) + 1) % urls.length];
}
