-- CreateTable
CREATE TABLE "network_settings" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "allowed_hosts" TEXT NOT NULL DEFAULT '',
    "insecure_hosts" TEXT NOT NULL DEFAULT '',
    "trusted_ca_pem" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "network_settings_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "network_settings_single_row" CHECK ("id" = 1)
);

-- CreateTable
CREATE TABLE "microsoft365_connections" (
    "organization_id" UUID NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "client_id" TEXT NOT NULL,
    "client_secret_sealed" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "microsoft365_connections_pkey" PRIMARY KEY ("organization_id")
);

-- AddForeignKey
ALTER TABLE "microsoft365_connections" ADD CONSTRAINT "microsoft365_connections_organization_id_fkey" FOREIGN KEY ("organization_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
