-- Where an account's calendars, contacts and tasks are reached when not on its mail server's
-- host (a CalDAV/CardDAV URL given by the customer). Not a secret.
ALTER TABLE "migration_accounts" ADD COLUMN "groupware_url" TEXT;
