-- 004_hash_bytes: a registered hardware hash is kept as its bytes, not as
-- base64 text: a quarter smaller, in the largest column of the registry,
-- and what a later comparison with the hash on the wire needs.  The
-- column keeps its declared type TEXT (SQLite cannot change it, and its
-- TEXT affinity stores a BLOB as it is); wg_base64_blob() is the driver's
-- (sqlite.c).  Hashes were stored canonical and padded.
UPDATE device_identities SET hardware_hash = wg_base64_blob(hardware_hash)
    WHERE typeof(hardware_hash) = 'text';
