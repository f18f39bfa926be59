-- The counter support log (窓口の申請支援): one row per in-person support case (PostgreSQL).
--
-- Kept semantically equal to migrations/sqlite/0005_counter_cases.sql. `at` is UTC,
-- written truncated to milliseconds like calls.arrived_at. fee_payment_confirmed is set
-- for a loss re-issue (紛失再交付) and NULL for every other kind. Text keys use the "C"
-- collation so id order is byte order, as in SQLite.
--
-- Kinds: new_application 新規申請, renewal 更新, loss_reissue 紛失再交付,
-- health_insurance_link 健康保険証利用登録, public_funds_account 公金受取口座登録,
-- other_linking その他の紐づけ, e_application_help 電子申請支援.
-- Outcomes: completed 完了, continued_later 後日継続, referred 他窓口案内,
-- not_possible 対応不可.

CREATE TABLE IF NOT EXISTS counter_cases (
    id                    TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    at                    TIMESTAMPTZ NOT NULL,
    kind                  TEXT NOT NULL CHECK (kind IN ('new_application', 'renewal',
                              'loss_reissue', 'health_insurance_link', 'public_funds_account',
                              'other_linking', 'e_application_help')),
    outcome               TEXT NOT NULL CHECK (outcome IN ('completed', 'continued_later',
                              'referred', 'not_possible')),
    seat                  TEXT NOT NULL CHECK (char_length(btrim(seat)) BETWEEN 1 AND 32),
    fee_payment_confirmed BOOLEAN,
    staff                 TEXT NOT NULL CHECK (char_length(staff) > 0),
    note                  TEXT CHECK (char_length(note) <= 1000),
    node_id               TEXT NOT NULL,
    CHECK ((kind = 'loss_reissue') = (fee_payment_confirmed IS NOT NULL))
);

-- (at, id) serves the date range and the newest-first order of the listing.
CREATE INDEX IF NOT EXISTS counter_cases_at ON counter_cases (at, id);
