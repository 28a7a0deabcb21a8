-- Mass migration: a submission of many records, each checked in the background and turned into
-- a migration when both of its logins work (server/migrations/mass).

-- CreateEnum
CREATE TYPE "mass_submission_state" AS ENUM ('checking', 'done');

-- CreateEnum
CREATE TYPE "mass_record_state" AS ENUM ('pending', 'checking', 'created', 'failed');

-- CreateEnum
CREATE TYPE "mass_failed_side" AS ENUM ('source', 'target', 'both');

-- CreateTable
CREATE TABLE "mass_submissions" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "created_by_user_id" UUID,
    "state" "mass_submission_state" NOT NULL DEFAULT 'checking',
    "records" INTEGER NOT NULL,
    "checked" INTEGER NOT NULL DEFAULT 0,
    "created" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "mass_submissions_pkey" PRIMARY KEY ("id"),
    -- Every record ends once, as created or failed: the counters can never drift apart.
    CONSTRAINT "mass_submissions_counts" CHECK ("records" > 0 AND "checked" = "created" + "failed" AND "checked" <= "records" AND "created" >= 0 AND "failed" >= 0),
    CONSTRAINT "mass_submissions_done_when_all_checked" CHECK (("state" = 'done') = ("checked" = "records"))
);

-- CreateTable
CREATE TABLE "mass_records" (
    "submission_id" UUID NOT NULL,
    "line" INTEGER NOT NULL,
    "state" "mass_record_state" NOT NULL DEFAULT 'pending',
    "start_at" TIMESTAMPTZ(3) NOT NULL,
    "resync_at" TIMESTAMPTZ(3),
    "reservation_id" UUID,
    "migration_id" UUID,
    "source_type" TEXT NOT NULL,
    "source_email" TEXT NOT NULL,
    "source_username" TEXT NOT NULL,
    "source_server" TEXT NOT NULL,
    "source_password_sealed" TEXT,
    "target_type" TEXT NOT NULL,
    "target_email" TEXT NOT NULL,
    "target_username" TEXT NOT NULL,
    "target_server" TEXT NOT NULL,
    "target_password_sealed" TEXT,
    "failed_side" "mass_failed_side",
    "source_verdict" JSONB,
    "target_verdict" JSONB,
    "message" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "mass_records_pkey" PRIMARY KEY ("submission_id", "line"),
    CONSTRAINT "mass_records_resync_after_start" CHECK ("resync_at" IS NULL OR "resync_at" > "start_at"),
    -- A record that ended keeps no ciphertext: the migration holds its own sealed copies.
    CONSTRAINT "mass_records_wiped_when_ended" CHECK ("state" IN ('pending', 'checking') OR ("source_password_sealed" IS NULL AND "target_password_sealed" IS NULL))
);

-- CreateIndex
CREATE INDEX "mass_submissions_organization_id_created_at_idx" ON "mass_submissions"("organization_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "mass_records_reservation_id_key" ON "mass_records"("reservation_id");

-- CreateIndex
CREATE UNIQUE INDEX "mass_records_migration_id_key" ON "mass_records"("migration_id");

-- CreateIndex
CREATE INDEX "mass_records_submission_id_state_idx" ON "mass_records"("submission_id", "state");

-- AddForeignKey
ALTER TABLE "mass_submissions" ADD CONSTRAINT "mass_submissions_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "mass_submissions" ADD CONSTRAINT "mass_submissions_created_by_user_id_fkey" FOREIGN KEY ("created_by_user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "mass_records" ADD CONSTRAINT "mass_records_submission_id_fkey" FOREIGN KEY ("submission_id") REFERENCES "mass_submissions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "mass_records" ADD CONSTRAINT "mass_records_reservation_id_fkey" FOREIGN KEY ("reservation_id") REFERENCES "quota_reservations"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "mass_records" ADD CONSTRAINT "mass_records_migration_id_fkey" FOREIGN KEY ("migration_id") REFERENCES "migrations"("id") ON DELETE SET NULL ON UPDATE CASCADE;
