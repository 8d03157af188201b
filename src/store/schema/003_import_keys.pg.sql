-- ek_key of the devices already registered: the first 8 hex digits of
-- the digest as a signed 32-bit integer.
UPDATE device_identities
    SET ek_key = ('x' || substr(ek_sha256, 1, 8))::bit(32)::int
    WHERE ek_sha256 IS NOT NULL;
