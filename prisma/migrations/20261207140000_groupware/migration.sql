-- CreateTable
-- Per calendar, address book or task list of a groupware migration: where it went, the copy's
-- checkpoint (UIDs and versions, never content) and its counts.
CREATE TABLE "migration_groupware_collections" (
    "migration_id" UUID NOT NULL,
    "source_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "source_name" TEXT NOT NULL,
    "target_name" TEXT NOT NULL,
    "target_note" TEXT,
    "checkpoint" JSONB NOT NULL,
    "items" INTEGER NOT NULL DEFAULT 0,
    "present" INTEGER NOT NULL DEFAULT 0,
    "copied" INTEGER NOT NULL DEFAULT 0,
    "updated" INTEGER NOT NULL DEFAULT 0,
    "skipped" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "migration_groupware_collections_pkey" PRIMARY KEY ("migration_id","source_id")
);

-- CreateTable
-- Calendar, contact and task items the target refused: collection, UID, size, reason; never content.
CREATE TABLE "migration_groupware_issues" (
    "id" BIGSERIAL NOT NULL,
    "migration_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "collection" TEXT NOT NULL,
    "uid" TEXT,
    "size" INTEGER,
    "reason" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "migration_groupware_issues_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "migration_groupware_issues_migration_id_idx" ON "migration_groupware_issues"("migration_id");

-- AddForeignKey
ALTER TABLE "migration_groupware_collections" ADD CONSTRAINT "migration_groupware_collections_migration_id_fkey" FOREIGN KEY ("migration_id") REFERENCES "migrations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "migration_groupware_issues" ADD CONSTRAINT "migration_groupware_issues_migration_id_fkey" FOREIGN KEY ("migration_id") REFERENCES "migrations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
