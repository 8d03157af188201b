-- 007_tokens: the token service's single-use nonces (step 3 of the flow:
-- a device proves its TPM by quoting a nonce), and the link from an AIK
-- certificate to the device whose EK it was issued for.
--
-- A device token request names its AIK; the certificate it shows must be
-- one the attestation CA recorded for that AIK (found by its name).
--
-- A nonce is kept as the SHA-256 of its bytes (hex); taking it sets
-- used_ms in one UPDATE, so that it is used once across every server
-- instance sharing the database.
CREATE TABLE nonces (
	nonce_sha256 TEXT PRIMARY KEY,
	purpose TEXT NOT NULL,
	created_ms BIGINT NOT NULL,
	expires_ms BIGINT NOT NULL,
	used_ms BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX nonces_expires ON nonces (expires_ms);

-- SHA-256 (hex) of the EK's TPMT_PUBLIC, as device_identities has it;
-- NULL for certificates issued before this migration.
ALTER TABLE aik_certificates ADD COLUMN ek_sha256 TEXT;
CREATE INDEX aik_certificates_name ON aik_certificates (aik_name);
