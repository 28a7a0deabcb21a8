-- The date of a message not copied, when the engine knew it.
ALTER TABLE "migration_issues" ADD COLUMN "message_date" TIMESTAMPTZ(3);

-- The items not copied, a page at a time by folder and UID.
CREATE INDEX "migration_issues_migration_id_folder_uid_idx" ON "migration_issues"("migration_id", "folder", "uid");
