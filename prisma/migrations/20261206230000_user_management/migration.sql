-- Users an administrator disabled cannot sign in; a session carries the user's session version
-- and ends once the version moved on (disabled, password set by someone, password changed).
ALTER TABLE "users"
    ADD COLUMN "disabled_at" TIMESTAMPTZ(3),
    ADD COLUMN "session_version" INTEGER NOT NULL DEFAULT 0;

-- A deleted organization keeps its row (name, licences, usage counts) without users or personal data.
ALTER TABLE "organizations"
    ADD COLUMN "deleted_at" TIMESTAMPTZ(3),
    ADD COLUMN "unused_key_cap" INTEGER,
    ADD CONSTRAINT "organizations_unused_key_cap_check" CHECK ("unused_key_cap" IS NULL OR "unused_key_cap" >= 0);
