-- CreateTable
-- Deletion receipts: what was deleted (kinds and counts, never values), when and by which
-- event. Each digest covers the receipt's fields and the previous receipt's digest (a chain
-- per organization, checked by `npm run ferry -- receipts verify ORG`). No foreign key on
-- migration_id: the receipt outlives its migration's row, and its digest must not change.
CREATE TABLE "deletion_receipts" (
    "id" BIGSERIAL NOT NULL,
    "organization_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "migration_id" UUID,
    "event" TEXT NOT NULL,
    "trigger" TEXT NOT NULL,
    "deleted" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "prev_digest" TEXT,
    "digest" TEXT NOT NULL,

    CONSTRAINT "deletion_receipts_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "deletion_receipts_seq_check" CHECK ("seq" >= 1),
    CONSTRAINT "deletion_receipts_digest_check" CHECK ("digest" ~ '^[0-9a-f]{64}$')
);

-- CreateIndex
CREATE UNIQUE INDEX "deletion_receipts_organization_id_seq_key" ON "deletion_receipts"("organization_id", "seq");

-- CreateIndex
CREATE INDEX "deletion_receipts_migration_id_idx" ON "deletion_receipts"("migration_id");

-- AddForeignKey
ALTER TABLE "deletion_receipts" ADD CONSTRAINT "deletion_receipts_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CreateTable
-- The chain's end per organization (count and last digest), so a removed last receipt shows.
-- A table of its own: writing it never takes the organization's row lock.
CREATE TABLE "deletion_receipt_heads" (
    "organization_id" UUID NOT NULL,
    "count" INTEGER NOT NULL,
    "digest" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "deletion_receipt_heads_pkey" PRIMARY KEY ("organization_id")
);

-- AddForeignKey
ALTER TABLE "deletion_receipt_heads" ADD CONSTRAINT "deletion_receipt_heads_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
