import { createCallerFactory, createTRPCRouter } from './init';
import { adminRouter } from './routers/admin.router';
import { organizationRouter } from './routers/organization.router';
import { resellerRouter } from './routers/reseller.router';
import { sessionRouter } from './routers/session.router';

export const appRouter = createTRPCRouter({
  session: sessionRouter,
  admin: adminRouter,
  reseller: resellerRouter,
  organization: organizationRouter,
});

export type AppRouter = typeof appRouter;

export const createCaller = createCallerFactory(appRouter);
