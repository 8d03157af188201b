-- 005_attestation: step 2 of the flow, "Securing your hardware".
--
-- ek_certificates: what the manufacturer's EK certificate service (the
-- ekcert service) issued, found by ek_id, Intel's lookup key: the
-- base64url SHA-256 of the EK's modulus and exponent (RSA) or x and y
-- (ECC).  ek_revocations: EKs the attestation CA refuses and the ekcert
-- service no longer serves, whoever certified them.  aik_certificates:
-- what the attestation CA issued, and on what grounds.  Certificates and
-- TPM structures are base64 TEXT; digests hex.
CREATE TABLE ek_certificates (
	ek_id TEXT PRIMARY KEY,
	ek_alg TEXT NOT NULL CHECK (ek_alg IN ('rsa', 'ecc')),
	ek_sha256 TEXT NOT NULL,
	ek_public TEXT NOT NULL,
	certificate TEXT NOT NULL,
	cert_serial TEXT NOT NULL,
	manufacturer TEXT NOT NULL,
	model TEXT NOT NULL,
	version TEXT NOT NULL,
	created_ms BIGINT NOT NULL
);

CREATE TABLE ek_revocations (
	ek_id TEXT PRIMARY KEY,
	reason TEXT NOT NULL,
	revoked_ms BIGINT NOT NULL
);

CREATE TABLE aik_certificates (
	cert_serial TEXT PRIMARY KEY,
	aik_name TEXT NOT NULL,
	ek_id TEXT NOT NULL,
	assurance TEXT NOT NULL CHECK (assurance IN ('ek-certificate',
	    'ek-on-list')),
	serial_number TEXT NOT NULL,
	certificate TEXT NOT NULL,
	created_ms BIGINT NOT NULL,
	not_after_ms BIGINT NOT NULL
);
CREATE INDEX aik_certificates_ek ON aik_certificates (ek_id, created_ms);
