import { createTRPCRouter } from '../init';

export const auditRouter = createTRPCRouter({});
