-- The counter support log (窓口の申請支援): one row per in-person support case (SQLite).
--
-- Kept semantically equal to migrations/postgres/0005_counter_cases.sql. `at` is the
-- checked RFC 3339 millisecond UTC text of 0001_calls.sql, like calls.arrived_at, so a
-- month is `at >= '2026-06-01T…Z' AND at < '2026-07-01T…Z'` (bounds at local midnight).
-- fee_payment_confirmed is INTEGER 0/1 (STRICT tables have no BOOLEAN): set for a loss
-- re-issue (紛失再交付) and NULL for every other kind. Reports read it with
-- `fee_payment_confirmed IS TRUE`, which both backends understand.
--
-- Kinds: new_application 新規申請, renewal 更新, loss_reissue 紛失再交付,
-- health_insurance_link 健康保険証利用登録, public_funds_account 公金受取口座登録,
-- other_linking その他の紐づけ, e_application_help 電子申請支援.
-- Outcomes: completed 完了, continued_later 後日継続, referred 他窓口案内,
-- not_possible 対応不可.

CREATE TABLE IF NOT EXISTS counter_cases (
    id                    TEXT NOT NULL PRIMARY KEY,
    at                    TEXT NOT NULL
        CHECK (at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9]Z'),
    kind                  TEXT NOT NULL CHECK (kind IN ('new_application', 'renewal',
                              'loss_reissue', 'health_insurance_link', 'public_funds_account',
                              'other_linking', 'e_application_help')),
    outcome               TEXT NOT NULL CHECK (outcome IN ('completed', 'continued_later',
                              'referred', 'not_possible')),
    seat                  TEXT NOT NULL CHECK (length(trim(seat)) BETWEEN 1 AND 32),
    fee_payment_confirmed INTEGER CHECK (fee_payment_confirmed IN (0, 1)),
    staff                 TEXT NOT NULL CHECK (length(staff) > 0),
    note                  TEXT CHECK (length(note) <= 1000),
    node_id               TEXT NOT NULL,
    CHECK ((kind = 'loss_reissue') = (fee_payment_confirmed IS NOT NULL))
) STRICT, WITHOUT ROWID;

-- (at, id) serves the date range and the newest-first order of the listing.
CREATE INDEX IF NOT EXISTS counter_cases_at ON counter_cases (at, id);
