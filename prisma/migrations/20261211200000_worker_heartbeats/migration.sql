-- CreateTable
-- One row per running worker process, beaten every MAILFERRY_WORKER_HEARTBEAT_SECONDS with the
-- database's clock; a row older than four beats is a dead worker whose jobs are handed back.
CREATE TABLE "worker_heartbeats" (
    "id" UUID NOT NULL,
    "worker_ids" TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[],
    "pid" INTEGER NOT NULL,
    "host_name" TEXT NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "beat_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "worker_heartbeats_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "worker_heartbeats_beat_at_idx" ON "worker_heartbeats"("beat_at");

-- AlterTable
-- The worker whose job took the slots: a dead worker's leases are removed with its jobs'
-- locks instead of holding the server's slots until they expire.
ALTER TABLE "connection_leases" ADD COLUMN "holder" TEXT;

-- CreateIndex
CREATE INDEX "connection_leases_holder_idx" ON "connection_leases"("holder");
