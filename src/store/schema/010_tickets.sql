-- 010_tickets: step 6 of the flow, the reseal.
--
-- A pre-provisioning ticket: random, kept as its SHA-256 (hex), one-time
-- (used_ms), alive until expires_ms (the profile's ticket lifetime),
-- bound to the device key of the join (dk_id: the SHA-256 of its public
-- area, as directory_devices.device_key_id) and recording the TPM's
-- resetCount and restartCount at the reseal, which the user phase
-- compares with the TPM's at sign-in.  A device has at most one unused
-- ticket: a reseal made again replaces it.
CREATE TABLE pp_tickets (
	ticket_sha256 TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	device_id TEXT NOT NULL REFERENCES device_identities (id)
	    ON DELETE CASCADE,
	dk_id TEXT NOT NULL,
	reset_count BIGINT NOT NULL,
	restart_count BIGINT NOT NULL,
	created_ms BIGINT NOT NULL,
	expires_ms BIGINT NOT NULL,
	used_ms BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX pp_tickets_device ON pp_tickets (device_id, used_ms);
