-- CreateTable
CREATE TABLE "hosted_mailboxes" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "server" TEXT NOT NULL,
    "type" TEXT NOT NULL DEFAULT 'imap',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "hosted_mailboxes_pkey" PRIMARY KEY ("id"),
    -- Stored lower-cased, so the unique index below is case-insensitive.
    CONSTRAINT "hosted_mailboxes_email_lower_case" CHECK ("email" = lower("email")),
    -- The account types of server/accounts/types.ts.
    CONSTRAINT "hosted_mailboxes_type_known" CHECK ("type" IN ('imap', 'zimbra', 'kolab', 'openxchange', 'exchange', 'office365'))
);

-- CreateIndex
CREATE UNIQUE INDEX "hosted_mailboxes_email_key" ON "hosted_mailboxes"("email");
