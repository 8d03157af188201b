-- 012_idempotency: the answers of idempotent device requests (the join,
-- the MDM enrollment, the reseal), kept 24 hours so that an agent killed
-- after the server answered gets the same answer again.
--
-- scope is the hex SHA-256 of the route, the calling device (its tenant
-- and ZTDID, from its verified device token) and the Idempotency-Key; a
-- row is written in the same transaction as the request's own writes, so
-- a committed row always has its answer (status > 0).  body is base64 of
-- the answer sealed with AES-256-GCM under the server's key
-- (STATE/idempotency.key): the reseal's answer holds a ticket.
CREATE TABLE idempotency_keys (
	scope TEXT PRIMARY KEY,
	route TEXT NOT NULL,
	created_ms BIGINT NOT NULL,
	status INTEGER NOT NULL DEFAULT 0,
	content_type TEXT NOT NULL DEFAULT '',
	body TEXT
);
CREATE INDEX idempotency_keys_route ON idempotency_keys (route, created_ms);
