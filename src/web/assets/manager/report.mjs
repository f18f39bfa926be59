// The monthly report from the board: the month to offer first (the last complete one) and the
// download addresses of the report API (same origin, so the session cookie goes with them).

/** "YYYY-MM" of the month before the one containing `now` (a Date), in local time. */
export function previousMonth(now) {
  const year = now.getFullYear();
  const month = now.getMonth(); // 0-based: this is already "last month" as 1-based
  return month === 0 ? `${year - 1}-12` : `${year}-${String(month).padStart(2, '0')}`;
}

/** The report's download links for `month` ("YYYY-MM"), or null for anything else. */
export function reportLinks(month) {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(month ?? '')) return null;
  const base = `/api/v1/reports/monthly?month=${month}`;
  return { xlsx: `${base}&format=xlsx`, csv: `${base}&format=csv` };
}
