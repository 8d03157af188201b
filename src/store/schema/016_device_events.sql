-- 016_device_events: the events a device uploads from its channels
-- (POST /mdm/v1/events), the device's half of its server-side timeline
-- (GET /admin/v1/devices/{id}/timeline); the server's half is the
-- audit_events of the device.
--
-- event is the record as wg_event_to_json() writes it after the server
-- parsed it strictly; event_hash is the hex SHA-256 of that line.  The
-- unique key (device_id, channel, event_hash) makes an upload idempotent:
-- an event sent again (an agent that lost the answer, a cursor lost with
-- its state directory) is stored once.  time_ms is the device's clock,
-- received_ms the server's.  A device keeps its newest 2000 events by
-- arrival (seq): each upload trims the older ones (store_events.c).
CREATE TABLE device_events (
	seq INTEGER PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	device_id TEXT NOT NULL REFERENCES device_identities (id)
	    ON DELETE CASCADE,
	event_hash TEXT NOT NULL,
	time_ms BIGINT NOT NULL,
	received_ms BIGINT NOT NULL,
	channel TEXT NOT NULL,
	event_id INTEGER NOT NULL,
	level TEXT NOT NULL,
	phase TEXT NOT NULL,
	code TEXT NOT NULL,
	correlation_id TEXT,
	event TEXT NOT NULL,
	UNIQUE (device_id, channel, event_hash)
);
CREATE INDEX device_events_time ON device_events (device_id, time_ms, seq);
CREATE INDEX device_events_seq ON device_events (device_id, seq);
