-- CreateEnum
CREATE TYPE "quota_pool" AS ENUM ('free', 'commercial');

-- CreateEnum
CREATE TYPE "reservation_state" AS ENUM ('reserved', 'used', 'released');

-- CreateTable
CREATE TABLE "licence_keys" (
    "id" UUID NOT NULL,
    "key_hash" TEXT NOT NULL,
    "last_group" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "reseller_id" UUID,
    "organization_id" UUID,
    "registered_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "licence_keys_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "licence_keys_size_allowed" CHECK ("size" IN (5, 10, 25, 50, 100)),
    -- Only an unregistered key can be revoked, and a revoked key cannot be registered.
    CONSTRAINT "licence_keys_registered_or_revoked" CHECK ("registered_at" IS NULL OR "revoked_at" IS NULL)
);

-- CreateTable
CREATE TABLE "quota_reservations" (
    "id" UUID NOT NULL,
    "organization_id" UUID NOT NULL,
    "units" INTEGER NOT NULL,
    "pool" "quota_pool" NOT NULL,
    "state" "reservation_state" NOT NULL DEFAULT 'reserved',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "quota_reservations_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "quota_reservations_units_positive" CHECK ("units" > 0)
);

-- CreateTable
CREATE TABLE "organization_usage" (
    "organization_id" UUID NOT NULL,
    "free_units" INTEGER NOT NULL DEFAULT 0,
    "commercial_units" INTEGER NOT NULL DEFAULT 0,
    "migrations_done" INTEGER NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "organization_usage_pkey" PRIMARY KEY ("organization_id"),
    -- Free mode is 2 migrations, ever: the database refuses a third even if the code had a bug.
    CONSTRAINT "organization_usage_free_units_range" CHECK ("free_units" BETWEEN 0 AND 2),
    CONSTRAINT "organization_usage_commercial_units_nonnegative" CHECK ("commercial_units" >= 0),
    CONSTRAINT "organization_usage_migrations_done_nonnegative" CHECK ("migrations_done" >= 0)
);

-- CreateIndex
CREATE UNIQUE INDEX "licence_keys_key_hash_key" ON "licence_keys"("key_hash");

-- CreateIndex
CREATE INDEX "licence_keys_reseller_id_created_at_idx" ON "licence_keys"("reseller_id", "created_at");

-- CreateIndex
CREATE INDEX "licence_keys_organization_id_registered_at_idx" ON "licence_keys"("organization_id", "registered_at");

-- CreateIndex
CREATE INDEX "quota_reservations_organization_id_state_idx" ON "quota_reservations"("organization_id", "state");

-- AddForeignKey
ALTER TABLE "licence_keys" ADD CONSTRAINT "licence_keys_reseller_id_fkey" FOREIGN KEY ("reseller_id") REFERENCES "organizations"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "licence_keys" ADD CONSTRAINT "licence_keys_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "quota_reservations" ADD CONSTRAINT "quota_reservations_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "organization_usage" ADD CONSTRAINT "organization_usage_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
