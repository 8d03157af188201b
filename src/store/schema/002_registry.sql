-- 002_registry: device registration by import (step 0 of the flow).
--
-- A row of an import either becomes a device (device_identities, which
-- carries the import id and row number, with its pre-created directory
-- object) or an import_errors row with its DDS code: both are written in
-- the same transaction as the import's counts, so after a crash a row is
-- either there with its state or absent.  An EK is registered once across
-- all tenants (the unique index backs the 806/808 checks under
-- concurrency).

ALTER TABLE imports ADD COLUMN updated_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN owner TEXT;
ALTER TABLE imports ADD COLUMN message TEXT;
ALTER TABLE imports ADD COLUMN interrupted INTEGER NOT NULL DEFAULT 0;

ALTER TABLE device_identities ADD COLUMN row_number BIGINT;
DROP INDEX device_identities_ek;
CREATE UNIQUE INDEX device_identities_ek ON device_identities (ek_sha256);
CREATE INDEX device_identities_import ON device_identities (import_id,
    row_number);

CREATE TABLE import_errors (
	import_id TEXT NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
	row_number BIGINT NOT NULL,
	serial_number TEXT,
	product_key TEXT,
	group_tag TEXT,
	assigned_upn TEXT,
	error_code INTEGER NOT NULL,
	message TEXT,
	PRIMARY KEY (import_id, row_number)
);
