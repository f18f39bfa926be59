-- The node whose registrar holds each SIP binding (SQLite).
--
-- Several nodes may share one database (issue 8): a phone's binding can only be reached by the
-- node it registered with (its NAT pinhole or connection), so a node restores only its own
-- bindings after a restart. Bindings stored before this migration belonged to the only node
-- there was, which runs as `node1` unless told otherwise.

ALTER TABLE registrations ADD COLUMN node_id TEXT NOT NULL DEFAULT 'node1';

CREATE INDEX IF NOT EXISTS registrations_node ON registrations (node_id, expires_at);
