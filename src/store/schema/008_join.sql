-- 008_join: step 3 of the flow, the join.
--
-- device_certificates: what the device registration service (drs)
-- issued, for which device and device key (its TPM name, hex); a join
-- that is made again issues another certificate for the same directory
-- object.  aik_certificates.aik_public: the AIK's TPM2B_PUBLIC (base64),
-- with which drs checks the AIK's certifications of the device key and
-- the transport key (NULL for certificates issued before it was kept).
CREATE TABLE device_certificates (
	cert_serial TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	device_id TEXT NOT NULL,
	directory_device_id TEXT NOT NULL,
	dk_name TEXT NOT NULL,
	thumbprint TEXT NOT NULL,
	certificate TEXT NOT NULL,
	created_ms BIGINT NOT NULL,
	not_after_ms BIGINT NOT NULL
);
CREATE INDEX device_certificates_device ON device_certificates
    (device_id, created_ms);

ALTER TABLE aik_certificates ADD COLUMN aik_public TEXT;
