-- 015_recovery: a tenant's admin setting for the user's sign-in.
--
-- tenants.allow_join_recovery: whether a user whose device lost its
-- pre-provisioned join (a strict device started too often since its
-- reseal, or a ticket already used or expired) may recover it by signing
-- in (whiteglove-agent login --recover).  Off unless an admin turns it on
-- (PATCH /admin/v1/tenants/{id}).
ALTER TABLE tenants ADD COLUMN allow_join_recovery INTEGER NOT NULL
    DEFAULT 0 CHECK (allow_join_recovery IN (0, 1));
