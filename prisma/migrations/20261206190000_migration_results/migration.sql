-- A migration that ended with something not copied (a refused message, a folder that could not
-- be created or read) is "incomplete", never "finished". The new value is not used in this
-- transaction, which PostgreSQL requires of a value added inside one.
ALTER TYPE "migration_state" ADD VALUE 'incomplete' AFTER 'finished';

-- What a checkpoint knows about the target: why its name differs, what it held when the last
-- pass ended, and how many copied messages are gone from it since (server/engine/state.ts).
ALTER TABLE "migration_folders"
    ADD COLUMN "target_note" TEXT,
    ADD COLUMN "target_messages" INTEGER,
    ADD COLUMN "target_uid_next" INTEGER,
    ADD COLUMN "messages_gone" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
-- Things a customer should know about a pass that are not a loss ("Sent on the target was re-created").
CREATE TABLE "migration_notices" (
    "id" BIGSERIAL NOT NULL,
    "migration_id" UUID NOT NULL,
    "folder" TEXT,
    "text" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "migration_notices_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "migration_notices_migration_id_idx" ON "migration_notices"("migration_id");

-- AddForeignKey
ALTER TABLE "migration_notices" ADD CONSTRAINT "migration_notices_migration_id_fkey" FOREIGN KEY ("migration_id") REFERENCES "migrations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
