-- 013_users: the token service's users (step 7 of the flow, account
-- setup), per tenant, and the failed sign-ins counted per device.
--
-- upn is stored lower-cased (by the store, in C, so both backends agree
-- on what "the same UPN" is), which makes UNIQUE (tenant_id, upn)
-- case-insensitive.  password_hash is the Argon2id PHC string
-- ($argon2id$v=19$m=...,t=...,p=...$salt$hash); the password itself is
-- never stored.  failed_count counts failed sign-ins since the last good
-- one; every lockout_after-th failure sets locked_until_ms (0: not
-- locked).  signin_devices counts failures per device in a window that
-- starts at its first failure, so one device cannot guess at many users.
CREATE TABLE users (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	upn TEXT NOT NULL,
	display_name TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL,
	disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	failed_count INTEGER NOT NULL DEFAULT 0,
	locked_until_ms BIGINT NOT NULL DEFAULT 0,
	last_sign_in_ms BIGINT NOT NULL DEFAULT 0,
	created_ms BIGINT NOT NULL,
	updated_ms BIGINT NOT NULL,
	UNIQUE (tenant_id, upn)
);

CREATE TABLE signin_devices (
	tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	device_id TEXT NOT NULL,
	failures INTEGER NOT NULL,
	window_start_ms BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, device_id)
);
