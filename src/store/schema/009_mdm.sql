-- 009_mdm: step 4 of the flow, MDM enrollment.
--
-- A device enrolls once: its mdm_enrollments row refuses a second
-- enrollment (0x80180014) until an admin deletes the row or sets
-- allow_next_enrollment, which the next enrollment uses up.  Deleting
-- the device deletes its enrollment.
CREATE TABLE mdm_enrollments (
	device_id TEXT PRIMARY KEY REFERENCES device_identities (id)
	    ON DELETE CASCADE,
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	enrollment_id TEXT NOT NULL UNIQUE,
	cert_serial TEXT NOT NULL,
	thumbprint TEXT NOT NULL,
	certificate TEXT NOT NULL,
	key_name TEXT NOT NULL,
	created_ms BIGINT NOT NULL,
	not_after_ms BIGINT NOT NULL
);

ALTER TABLE device_identities ADD COLUMN allow_next_enrollment INTEGER
    NOT NULL DEFAULT 0;
