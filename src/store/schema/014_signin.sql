-- 014_signin: step 7 of the flow, the user's sign-in.
--
-- directory_devices.dk_public / tk_public: the join's device key and
-- transport key (base64 TPM2B_PUBLIC): the sign-in request is signed by
-- the DK (found by device_key_id, the JWS's kid) and the session key is
-- wrapped to the TK.  pp_tickets.aik_name: the AIK whose quote recorded
-- the ticket's counters; the sign-in's quote must be that AIK's, since a
-- TPM offsets the counters it shows by a per-key value.
-- profiles.session_key_wrap: how the session key is wrapped to the TK
-- (RSA-OAEP-256; RSA-OAEP with SHA-1 as Windows does).
-- prts: primary refresh tokens, kept as their SHA-256; session_key is the
-- 32-byte session key sealed under the server's key (sealbox.h) with the
-- token's hash as scope.  A token lives until expires_ms, which each use
-- moves on (14 days); a renewed token is replaced (replaced_ms), and its
-- successor keeps the session key.
ALTER TABLE directory_devices ADD COLUMN dk_public TEXT;
ALTER TABLE directory_devices ADD COLUMN tk_public TEXT;
CREATE INDEX directory_devices_dk ON directory_devices (device_key_id);
ALTER TABLE pp_tickets ADD COLUMN aik_name TEXT;
ALTER TABLE profiles ADD COLUMN session_key_wrap TEXT NOT NULL
    DEFAULT 'RSA-OAEP-256' CHECK (session_key_wrap IN ('RSA-OAEP-256',
    'RSA-OAEP'));

CREATE TABLE prts (
	prt_sha256 TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	device_id TEXT NOT NULL,
	directory_device_id TEXT NOT NULL,
	session_key TEXT NOT NULL,
	created_ms BIGINT NOT NULL,
	expires_ms BIGINT NOT NULL,
	replaced_ms BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX prts_user ON prts (user_id);
