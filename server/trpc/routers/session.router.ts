import { createTRPCRouter, publicProcedure } from '../init';

export const sessionRouter = createTRPCRouter({
  /** The signed-in user as the browser may see it (no hashes, no secrets). */
  me: publicProcedure.query(({ ctx }) => ctx.user),
});
