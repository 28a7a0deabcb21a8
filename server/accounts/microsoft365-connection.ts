import { z } from 'zod';
import type { Db } from '../db';
import { recordAudit } from '../audit/audit';
import type { KeyRing } from '../crypto/keyring';
import { seal, unseal } from '../crypto/seal';

const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const microsoft365ConnectionSchema = z.object({
  tenantId: z
    .string()
    .trim()
    .refine((v) => guid.test(v) || /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(v), 'Enter the tenant ID (a GUID) or the tenant domain'),
  clientId: z.string().trim().regex(guid, 'Enter the application (client) ID, a GUID'),
  clientSecret: z.string().trim().min(8, 'Enter the client secret').max(512),
});

export type Microsoft365ConnectionInput = z.infer<typeof microsoft365ConnectionSchema>;

export interface Microsoft365Credentials {
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

const context = (organizationId: string) => `microsoft365:${organizationId}:client-secret`;

export async function saveMicrosoft365Connection(
  db: Db,
  ring: KeyRing,
  actor: { userId: string; ip?: string | null },
  organizationId: string,
  input: Microsoft365ConnectionInput,
): Promise<void> {
  const data = { tenantId: input.tenantId, clientId: input.clientId, clientSecretSealed: seal(ring, input.clientSecret, context(organizationId)) };
  await db.$transaction(async (tx) => {
    await tx.microsoft365Connection.upsert({ where: { organizationId }, create: { organizationId, ...data }, update: data });
    await recordAudit(tx, { action: 'microsoft365.save', actorUserId: actor.userId, organizationId, details: { tenantId: input.tenantId, clientId: input.clientId }, ip: actor.ip });
  });
}

/** What the browser may see: never the secret, not even sealed. */
export async function describeMicrosoft365Connection(db: Db, organizationId: string) {
  return db.microsoft365Connection.findUnique({
    where: { organizationId },
    select: { tenantId: true, clientId: true, updatedAt: true },
  });
}

export async function deleteMicrosoft365Connection(db: Db, actor: { userId: string; ip?: string | null }, organizationId: string): Promise<void> {
  await db.$transaction(async (tx) => {
    await tx.microsoft365Connection.deleteMany({ where: { organizationId } });
    await recordAudit(tx, { action: 'microsoft365.delete', actorUserId: actor.userId, organizationId, ip: actor.ip });
  });
}

/** For the connectors only. */
export async function loadMicrosoft365Credentials(db: Db, ring: KeyRing, organizationId: string): Promise<Microsoft365Credentials | null> {
  const row = await db.microsoft365Connection.findUnique({
    where: { organizationId },
    select: { tenantId: true, clientId: true, clientSecretSealed: true },
  });
  if (!row) return null;
  return { tenantId: row.tenantId, clientId: row.clientId, clientSecret: unseal(ring, row.clientSecretSealed, context(organizationId)) };
}
