// The board's monthly-report links.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { previousMonth, reportLinks } from '../../src/web/assets/manager/report.mjs';

test('the last complete month is offered first, across a year end', () => {
  assert.equal(previousMonth(new Date(2026, 10, 25)), '2026-10');
  assert.equal(previousMonth(new Date(2026, 0, 5)), '2025-12');
});

test('a month gives the workbook and the CSV of the report API', () => {
  assert.deepEqual(reportLinks('2025-06'), {
    xlsx: '/api/v1/reports/monthly?month=2025-06&format=xlsx',
    csv: '/api/v1/reports/monthly?month=2025-06&format=csv',
  });
});

test('anything but YYYY-MM gives no links', () => {
  for (const bad of ['', '2025-13', '2025-6', '2025/06', null, '2025-06&format=x']) {
    assert.equal(reportLinks(bad), null, String(bad));
  }
});
