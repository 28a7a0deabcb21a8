-- A reservation belongs to the migration that holds its unit: cancelling a scheduled migration
-- releases exactly its own unit, and the migration's start marks exactly that one used.
ALTER TABLE "quota_reservations" ADD COLUMN "migration_id" UUID;

-- CreateIndex
CREATE UNIQUE INDEX "quota_reservations_migration_id_key" ON "quota_reservations"("migration_id");

-- AddForeignKey
-- SET NULL: "remove my data" deletes migrations but keeps the counts their reservations hold.
ALTER TABLE "quota_reservations" ADD CONSTRAINT "quota_reservations_migration_id_fkey" FOREIGN KEY ("migration_id") REFERENCES "migrations"("id") ON DELETE SET NULL ON UPDATE CASCADE;
