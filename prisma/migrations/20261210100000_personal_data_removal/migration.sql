-- AlterTable
-- Set when the migration's personal data was removed (addresses, usernames, servers, folder
-- names, per-item reports): the row keeps its state, dates and counts. The reason says by
-- whom: the customer, an admin, or the retention period.
ALTER TABLE "migrations" ADD COLUMN "details_removed_at" TIMESTAMPTZ(3),
ADD COLUMN "details_removed_reason" TEXT,
ADD CONSTRAINT "migrations_details_removed_reason_check" CHECK ("details_removed_reason" IN ('customer', 'admin', 'retention')),
ADD CONSTRAINT "migrations_details_removed_check" CHECK (("details_removed_at" IS NULL) = ("details_removed_reason" IS NULL));

