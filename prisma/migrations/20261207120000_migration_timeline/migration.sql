-- The migration's live rate and folders while a pass runs.
ALTER TABLE "migrations" ADD COLUMN "bytes_per_second" DOUBLE PRECISION,
ADD COLUMN "live_folders" JSONB;

-- Whether a user gets e-mails about the migrations it created.
ALTER TABLE "users" ADD COLUMN "notify_by_email" BOOLEAN NOT NULL DEFAULT true;

-- CreateEnum
CREATE TYPE "migration_event_kind" AS ENUM ('scheduled', 'started', 'first_pass_done', 'resync_started', 'finished', 'incomplete', 'failed', 'cancelled', 'credentials_deleted', 'verification_gap');

-- CreateEnum
CREATE TYPE "notification_state" AS ENUM ('pending', 'sent', 'skipped', 'failed');

-- CreateTable
-- A migration's timeline: what happened when.
CREATE TABLE "migration_events" (
    "id" BIGSERIAL NOT NULL,
    "migration_id" UUID NOT NULL,
    "kind" "migration_event_kind" NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "migration_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
-- The e-mail of one event: the primary key keeps it to one per event.
CREATE TABLE "migration_notifications" (
    "event_id" BIGINT NOT NULL,
    "user_id" UUID,
    "state" "notification_state" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "sent_at" TIMESTAMPTZ(3),
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "migration_notifications_pkey" PRIMARY KEY ("event_id")
);

-- CreateIndex
CREATE INDEX "migration_events_migration_id_at_idx" ON "migration_events"("migration_id", "at");

-- AddForeignKey
ALTER TABLE "migration_events" ADD CONSTRAINT "migration_events_migration_id_fkey" FOREIGN KEY ("migration_id") REFERENCES "migrations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "migration_notifications" ADD CONSTRAINT "migration_notifications_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "migration_events"("id") ON DELETE CASCADE ON UPDATE CASCADE;
