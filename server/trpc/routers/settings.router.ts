import { z } from 'zod';
import { getNetworkSettings, updateNetworkSettings } from '../../accounts/network-settings';
import { env } from '../../env';
import { adminProcedure, createTRPCRouter } from '../init';

export const networkSettingsSchema = z.object({
  allowedHosts: z.string().max(10_000),
  insecureHosts: z.string().max(10_000),
  trustedCaPem: z.string().max(200_000).nullable(),
});

export const settingsRouter = createTRPCRouter({
  network: adminProcedure.query(async ({ ctx }) => ({
    ...(await getNetworkSettings(ctx.db)),
    // Shown read-only: rules from the environment apply too.
    fromEnvironment: {
      allowedHosts: env().MAILFERRY_ALLOWED_HOSTS ?? '',
      insecureHosts: env().MAILFERRY_INSECURE_HOSTS ?? '',
      trustedCaFile: env().MAILFERRY_TRUSTED_CA_FILE ?? null,
    },
  })),
  updateNetwork: adminProcedure.input(networkSettingsSchema).mutation(({ ctx, input }) => updateNetworkSettings(ctx.db, ctx.actor, input)),
});
