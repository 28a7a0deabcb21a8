import { createTRPCRouter } from '../init';

export const privacyRouter = createTRPCRouter({});
