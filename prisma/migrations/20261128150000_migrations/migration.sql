-- CreateEnum
CREATE TYPE "migration_state" AS ENUM ('scheduled', 'running', 'waiting_resync', 'resyncing', 'finished', 'failed', 'cancelled');

-- CreateEnum
CREATE TYPE "migration_side" AS ENUM ('source', 'target');

-- CreateTable
CREATE TABLE "migrations" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "created_by_user_id" UUID,
    "state" "migration_state" NOT NULL DEFAULT 'scheduled',
    "start_at" TIMESTAMPTZ(3) NOT NULL,
    "resync_at" TIMESTAMPTZ(3),
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "failure_reason" TEXT,
    "failed_attempts" INTEGER NOT NULL DEFAULT 0,
    "total_messages" INTEGER NOT NULL DEFAULT 0,
    "total_bytes" BIGINT NOT NULL DEFAULT 0,
    "copied_messages" INTEGER NOT NULL DEFAULT 0,
    "copied_bytes" BIGINT NOT NULL DEFAULT 0,
    "skipped_messages" INTEGER NOT NULL DEFAULT 0,
    "failed_messages" INTEGER NOT NULL DEFAULT 0,
    "eta_seconds" INTEGER,
    "progress_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "migrations_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "migrations_resync_after_start" CHECK ("resync_at" IS NULL OR "resync_at" > "start_at")
);

-- CreateTable
CREATE TABLE "migration_accounts" (
    "migration_id" UUID NOT NULL,
    "side" "migration_side" NOT NULL,
    "type" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "server" TEXT NOT NULL,
    "password_sealed" TEXT,

    CONSTRAINT "migration_accounts_pkey" PRIMARY KEY ("migration_id", "side")
);

-- CreateTable
CREATE TABLE "migration_folders" (
    "migration_id" UUID NOT NULL,
    "source_path" TEXT NOT NULL,
    "target_path" TEXT NOT NULL,
    "source_uid_validity" TEXT,
    "last_uid" INTEGER NOT NULL DEFAULT 0,
    "target_uid_validity" TEXT,
    "target_uid_floor" INTEGER NOT NULL DEFAULT 1,
    "highest_modseq" TEXT,
    "messages_copied" INTEGER NOT NULL DEFAULT 0,
    "bytes_copied" BIGINT NOT NULL DEFAULT 0,
    "messages_skipped" INTEGER NOT NULL DEFAULT 0,
    "messages_failed" INTEGER NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "migration_folders_pkey" PRIMARY KEY ("migration_id", "source_path")
);

-- CreateTable
CREATE TABLE "migration_issues" (
    "id" BIGSERIAL NOT NULL,
    "migration_id" UUID NOT NULL,
    "folder" TEXT NOT NULL,
    "uid" INTEGER,
    "size" BIGINT,
    "reason" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "migration_issues_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "connection_leases" (
    "id" UUID NOT NULL,
    "host" TEXT NOT NULL,
    "connections" INTEGER NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "connection_leases_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "migrations_organization_id_state_idx" ON "migrations"("organization_id", "state");

-- CreateIndex
CREATE INDEX "migrations_state_start_at_idx" ON "migrations"("state", "start_at");

-- CreateIndex
CREATE INDEX "migration_issues_migration_id_idx" ON "migration_issues"("migration_id");

-- CreateIndex
CREATE INDEX "connection_leases_host_expires_at_idx" ON "connection_leases"("host", "expires_at");

-- AddForeignKey
ALTER TABLE "migrations" ADD CONSTRAINT "migrations_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "migrations" ADD CONSTRAINT "migrations_created_by_user_id_fkey" FOREIGN KEY ("created_by_user_id") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "migration_accounts" ADD CONSTRAINT "migration_accounts_migration_id_fkey" FOREIGN KEY ("migration_id") REFERENCES "migrations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "migration_folders" ADD CONSTRAINT "migration_folders_migration_id_fkey" FOREIGN KEY ("migration_id") REFERENCES "migrations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "migration_issues" ADD CONSTRAINT "migration_issues_migration_id_fkey" FOREIGN KEY ("migration_id") REFERENCES "migrations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
