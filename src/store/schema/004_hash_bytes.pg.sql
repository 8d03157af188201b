-- 004_hash_bytes: a registered hardware hash is kept as its bytes, not as
-- base64 text: a quarter smaller, in the largest column of the registry,
-- and what a later comparison with the hash on the wire needs.  Hashes
-- were stored canonical and padded.
ALTER TABLE device_identities ALTER COLUMN hardware_hash TYPE BYTEA
    USING decode(hardware_hash, 'base64');
