-- 011_apps: step 5 of the flow, device setup: apps, their content, their
-- assignments and each device's progress through them.
--
-- An app's content is a file named by its SHA-256 under STATE/content
-- (the server's, not the database's); apps.sha256 is NULL until an admin
-- uploads it, and two apps with the same bytes share one file.  A group
-- tag's devices get the apps assigned to it (app_assignments).
-- app_states keeps the last state a device reported for each app.
CREATE TABLE apps (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	install_command TEXT NOT NULL,
	target TEXT NOT NULL CHECK (target IN ('device', 'user')),
	timeout_s INTEGER NOT NULL,
	sha256 TEXT,
	size BIGINT NOT NULL DEFAULT 0,
	created_ms BIGINT NOT NULL,
	updated_ms BIGINT NOT NULL,
	UNIQUE (tenant_id, name)
);
CREATE INDEX apps_sha256 ON apps (sha256);

CREATE TABLE app_assignments (
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	group_tag TEXT NOT NULL,
	app_id TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	created_ms BIGINT NOT NULL,
	PRIMARY KEY (app_id, group_tag)
);
CREATE INDEX app_assignments_tag ON app_assignments (tenant_id, group_tag);

CREATE TABLE app_states (
	device_id TEXT NOT NULL REFERENCES device_identities (id)
	    ON DELETE CASCADE,
	app_id TEXT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	state TEXT NOT NULL CHECK (state IN ('identifying', 'downloading',
	    'installing', 'installed', 'failed')),
	code TEXT,
	message TEXT,
	updated_ms BIGINT NOT NULL,
	PRIMARY KEY (device_id, app_id)
);
CREATE INDEX app_states_app ON app_states (app_id);
