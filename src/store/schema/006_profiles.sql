-- 006_profiles: deployment profiles (step 1 of the flow, the ztd service).
--
-- A profile belongs to a tenant; at most one per tenant is its default
-- (the partial unique index).  profile_assignments gives a group tag its
-- profile; a device gets the profile of its group tag, else the tenant's
-- default.  oobe_flags is the bit mask sent as CloudAssignedOobeConfig
-- (docs/api.md names the bits).  esp_timeout_min bounds device setup;
-- reboot_policy and ticket_days govern the pre-provisioning ticket of
-- step 6 and its use at step 7.
CREATE TABLE profiles (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	deployment_mode TEXT NOT NULL CHECK (deployment_mode IN
	    ('userDriven', 'selfDeploying', 'preProvisioning')),
	join_method TEXT NOT NULL CHECK (join_method IN ('cloud', 'hybrid')),
	device_name_template TEXT NOT NULL DEFAULT '',
	oobe_flags INTEGER NOT NULL DEFAULT 0,
	esp_timeout_min INTEGER NOT NULL DEFAULT 60,
	reboot_policy TEXT NOT NULL DEFAULT 'strict' CHECK (reboot_policy IN
	    ('strict', 'tolerant')),
	ticket_days INTEGER NOT NULL DEFAULT 180,
	is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
	created_ms BIGINT NOT NULL,
	updated_ms BIGINT NOT NULL,
	UNIQUE (tenant_id, name)
);
CREATE UNIQUE INDEX profiles_default ON profiles (tenant_id)
    WHERE is_default = 1;

CREATE TABLE profile_assignments (
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	group_tag TEXT NOT NULL,
	profile_id TEXT NOT NULL REFERENCES profiles (id) ON DELETE CASCADE,
	created_ms BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, group_tag)
);
CREATE INDEX profile_assignments_profile ON profile_assignments
    (profile_id);
