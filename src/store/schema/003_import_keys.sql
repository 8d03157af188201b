-- 003_import_keys: smaller registry indexes, so that a large import
-- touches fewer index pages per row.
--
-- EK digests are random: every insert into an index on them lands on a
-- random page.  The lookup index keeps only the digest's first 12 hex
-- digits (48 bits), a third of the key, and the lookup compares the
-- whole digest.  Directory objects are listed per tenant in id order (ids
-- are time-ordered UUIDv7, so that index grows at its end); nothing finds
-- them by ZTDID, which device_identities carries.

CREATE INDEX device_identities_ek_prefix ON device_identities
    ((substr(ek_sha256, 1, 12)));
DROP INDEX directory_devices_ztd;
DROP INDEX directory_devices_tenant;
CREATE INDEX directory_devices_tenant ON directory_devices (tenant_id, id);
