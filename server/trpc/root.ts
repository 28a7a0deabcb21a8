import { createCallerFactory, createTRPCRouter } from './init';
import { accountRouter } from './routers/account.router';
import { accountsRouter } from './routers/accounts.router';
import { adminRouter } from './routers/admin.router';
import { auditRouter } from './routers/audit.router';
import { hostedMailboxesRouter } from './routers/hosted-mailboxes.router';
import { licenceKeysRouter } from './routers/licence-keys.router';
import { licensingRouter } from './routers/licensing.router';
import { manageRouter } from './routers/manage.router';
import { massRouter } from './routers/mass.router';
import { migrationsRouter } from './routers/migrations.router';
import { organizationRouter } from './routers/organization.router';
import { privacyRouter } from './routers/privacy.router';
import { receiptsRouter } from './routers/receipts.router';
import { resellerRouter } from './routers/reseller.router';
import { sessionRouter } from './routers/session.router';
import { settingsRouter } from './routers/settings.router';

export const appRouter = createTRPCRouter({
  session: sessionRouter,
  admin: adminRouter,
  reseller: resellerRouter,
  organization: organizationRouter,
  accounts: accountsRouter,
  settings: settingsRouter,
  licensing: licensingRouter,
  licenceKeys: licenceKeysRouter,
  migrations: migrationsRouter,
  mass: massRouter,
  hostedMailboxes: hostedMailboxesRouter,
  manage: manageRouter,
  account: accountRouter,
  privacy: privacyRouter,
  receipts: receiptsRouter,
  audit: auditRouter,
});

export type AppRouter = typeof appRouter;

export const createCaller = createCallerFactory(appRouter);
