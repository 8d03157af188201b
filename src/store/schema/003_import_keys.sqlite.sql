-- On SQLite a write transaction holds the database's one write lock
-- (BEGIN IMMEDIATE) from an import batch's lookup to its inserts, so the
-- lookup alone keeps an EK to one device; the full-digest unique index
-- is not needed.  PostgreSQL keeps it: its writers run concurrently.
DROP INDEX device_identities_ek;

-- ek_key of the devices already registered: the first 8 hex digits of
-- the digest as a signed 32-bit integer.
UPDATE device_identities SET ek_key = (((
    (instr('0123456789abcdef', substr(ek_sha256, 1, 1)) - 1) * 268435456 +
    (instr('0123456789abcdef', substr(ek_sha256, 2, 1)) - 1) * 16777216 +
    (instr('0123456789abcdef', substr(ek_sha256, 3, 1)) - 1) * 1048576 +
    (instr('0123456789abcdef', substr(ek_sha256, 4, 1)) - 1) * 65536 +
    (instr('0123456789abcdef', substr(ek_sha256, 5, 1)) - 1) * 4096 +
    (instr('0123456789abcdef', substr(ek_sha256, 6, 1)) - 1) * 256 +
    (instr('0123456789abcdef', substr(ek_sha256, 7, 1)) - 1) * 16 +
    (instr('0123456789abcdef', substr(ek_sha256, 8, 1)) - 1) * 1
    ) + 2147483648) % 4294967296) - 2147483648
    WHERE ek_sha256 IS NOT NULL;
