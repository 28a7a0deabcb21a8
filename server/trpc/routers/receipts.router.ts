import { createTRPCRouter } from '../init';

export const receiptsRouter = createTRPCRouter({});
