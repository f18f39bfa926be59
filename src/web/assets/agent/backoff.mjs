// Reconnect schedule of the console's WebSocket (docs/console-protocol.md): 0.5 s, 1 s,
// 2 s, 4 s, 8 s, then every 10 s until a connection is greeted again.

export const FIRST_DELAY_MS = 500;
export const MAX_DELAY_MS = 10_000;

/** Delay before reconnect attempt `attempt` (0 for the first after a drop). */
export function reconnectDelay(attempt) {
  const n = Number.isInteger(attempt) && attempt > 0 ? attempt : 0;
  // 2 ** 5 already passes the cap; stop doubling there so large attempts stay finite.
  return Math.min(FIRST_DELAY_MS * 2 ** Math.min(n, 5), MAX_DELAY_MS);
}
