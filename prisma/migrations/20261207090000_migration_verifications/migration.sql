-- CreateTable
-- Per folder, what the verification at the end of a pass found on the target: counts, the
-- missing messages' source UIDs (at most 1,000 kept), or why the folder could not be verified.
CREATE TABLE "migration_verifications" (
    "migration_id" UUID NOT NULL,
    "source_path" TEXT NOT NULL,
    "target_path" TEXT,
    "pass" TEXT NOT NULL,
    "source_messages" INTEGER NOT NULL,
    "present_messages" INTEGER NOT NULL,
    "missing_messages" INTEGER NOT NULL,
    "missing_reported" INTEGER NOT NULL,
    "missing_uids" INTEGER[] NOT NULL,
    "unverified_reason" TEXT,
    "source_state" TEXT,
    "target_state" TEXT,
    "verified_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "migration_verifications_pkey" PRIMARY KEY ("migration_id","source_path")
);

-- AddForeignKey
ALTER TABLE "migration_verifications" ADD CONSTRAINT "migration_verifications_migration_id_fkey" FOREIGN KEY ("migration_id") REFERENCES "migrations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
