-- CreateTable
-- What of a copied calendar, contact or task item the target has no place for (an Exchange or
-- Microsoft 365 target): one row per item and property, with the reason; never the item's values.
CREATE TABLE "migration_groupware_changes" (
    "id" BIGSERIAL NOT NULL,
    "migration_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "collection" TEXT NOT NULL,
    "uid" TEXT NOT NULL DEFAULT '',
    "component" TEXT NOT NULL,
    "property" TEXT NOT NULL DEFAULT '',
    "reason" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "migration_groupware_changes_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "migration_groupware_changes_item_key" ON "migration_groupware_changes"("migration_id", "collection", "uid", "component", "property");

-- AddForeignKey
ALTER TABLE "migration_groupware_changes" ADD CONSTRAINT "migration_groupware_changes_migration_id_fkey" FOREIGN KEY ("migration_id") REFERENCES "migrations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
