-- The node whose registrar holds each SIP binding (PostgreSQL).
--
-- Kept semantically equal to migrations/sqlite/0012_registration_node.sql, which explains why.

ALTER TABLE registrations ADD COLUMN IF NOT EXISTS node_id TEXT COLLATE "C" NOT NULL DEFAULT 'node1';

CREATE INDEX IF NOT EXISTS registrations_node ON registrations (node_id, expires_at);
