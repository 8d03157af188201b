-- 001_init: the tables of the first release.
--
-- One file for SQLite and PostgreSQL: only TEXT, BIGINT and INTEGER types;
-- booleans are INTEGER 0/1, times BIGINT milliseconds since the epoch,
-- binary values hex or base64 TEXT, ids TEXT UUIDs.  A tenant's deletion
-- takes its rows with it (ON DELETE CASCADE).  What the two dialects cannot
-- say alike goes in 001_init.<backend>.sql, run right after this file in
-- the same transaction (see embed_schema.py).

CREATE TABLE tenants (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	created_ms BIGINT NOT NULL
);

-- Admin API keys; only a SHA-256 of the secret part is kept (hex).
-- Operator keys (role 0) belong to no tenant, tenant admins (1) to one.
CREATE TABLE api_keys (
	id TEXT PRIMARY KEY,
	tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
	role INTEGER NOT NULL CHECK (role IN (0, 1)),
	name TEXT NOT NULL,
	secret_hash TEXT NOT NULL,
	created_ms BIGINT NOT NULL,
	revoked_ms BIGINT NOT NULL DEFAULT 0,
	last_used_ms BIGINT NOT NULL DEFAULT 0,
	CHECK ((role = 0) = (tenant_id IS NULL))
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_ms);

-- Hardware-hash imports (Graph importedWindowsAutopilotDeviceIdentities).
CREATE TABLE imports (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	status TEXT NOT NULL DEFAULT 'unknown' CHECK (status IN
	    ('unknown', 'pending', 'partial', 'complete', 'error')),
	source TEXT NOT NULL CHECK (source IN ('json', 'csv')),
	total_count INTEGER NOT NULL DEFAULT 0,
	imported_count INTEGER NOT NULL DEFAULT 0,
	failed_count INTEGER NOT NULL DEFAULT 0,
	created_ms BIGINT NOT NULL,
	completed_ms BIGINT
);
CREATE INDEX imports_tenant ON imports (tenant_id, created_ms);

-- Directory device objects: pre-created disabled by an import, enabled by
-- the join.
CREATE TABLE directory_devices (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	ztd_id TEXT,
	display_name TEXT,
	enabled INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
	trust_type TEXT,
	os_version TEXT,
	device_key_id TEXT,
	transport_key_id TEXT,
	registered_owner TEXT,
	join_ms BIGINT,
	created_ms BIGINT NOT NULL
);
CREATE INDEX directory_devices_tenant ON directory_devices (tenant_id,
    created_ms);
CREATE INDEX directory_devices_ztd ON directory_devices (ztd_id);

-- Registered hardware hashes (base64 TLV), found by serial + EK.
CREATE TABLE device_identities (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	import_id TEXT REFERENCES imports (id) ON DELETE SET NULL,
	serial_number TEXT NOT NULL,
	product_key TEXT,
	manufacturer TEXT,
	model TEXT,
	group_tag TEXT,
	assigned_upn TEXT,
	hardware_hash TEXT NOT NULL,
	ek_sha256 TEXT,
	ztd_id TEXT NOT NULL UNIQUE,
	directory_device_id TEXT REFERENCES directory_devices (id)
	    ON DELETE SET NULL,
	enrollment_state TEXT NOT NULL DEFAULT 'notContacted',
	created_ms BIGINT NOT NULL,
	last_contacted_ms BIGINT
);
CREATE INDEX device_identities_serial ON device_identities (tenant_id,
    serial_number);
CREATE INDEX device_identities_ek ON device_identities (ek_sha256);

-- The audit log.  seq is the row's number, increasing per database: on
-- SQLite an INTEGER PRIMARY KEY is the 64-bit rowid, numbered by SQLite;
-- 001_init.pg.sql makes it a BIGINT identity on PostgreSQL.  event is the
-- whole event line (wg_event_to_json), from which the server rebuilds it;
-- the other columns repeat its fields for indexes and for SQL readers.
CREATE TABLE audit_events (
	seq INTEGER PRIMARY KEY,
	tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
	device_id TEXT,
	request_id TEXT,
	time_ms BIGINT NOT NULL,
	channel TEXT NOT NULL,
	event_id INTEGER NOT NULL,
	level TEXT NOT NULL,
	correlation_id TEXT,
	phase TEXT NOT NULL,
	code TEXT NOT NULL,
	message TEXT NOT NULL,
	details TEXT NOT NULL,
	event TEXT NOT NULL
);
CREATE INDEX audit_events_tenant ON audit_events (tenant_id, seq);
CREATE INDEX audit_events_device ON audit_events (device_id, seq);
