import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { Db } from '../db';
import type { Env } from '../env';
import { recordAudit } from '../audit/audit';
import { DEFAULT_ALLOWED_PORTS, type NetworkPolicy } from './network/host-policy';
import { parseHostRules } from './network/host-rules';

export class NetworkSettingsError extends Error {
  constructor(
    message: string,
    readonly field: 'allowedHosts' | 'insecureHosts' | 'trustedCaPem' | 'environment',
  ) {
    super(message);
    this.name = 'NetworkSettingsError';
  }
}

export interface NetworkSettingsInput {
  allowedHosts: string;
  insecureHosts: string;
  trustedCaPem: string | null;
}

function rulesOrThrow(text: string, field: NetworkSettingsError['field'], label: string) {
  const { rules, errors } = parseHostRules(text);
  if (errors.length > 0) throw new NetworkSettingsError(`${label}: ${errors.join('; ')}`, field);
  return rules;
}

/** Every certificate in a PEM bundle must parse; an empty bundle means "none". */
export function validateCaPem(pem: string | null): string | null {
  const text = pem?.trim();
  if (!text) return null;
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new NetworkSettingsError('Paste one or more PEM certificates (-----BEGIN CERTIFICATE----- …).', 'trustedCaPem');
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch {
      throw new NetworkSettingsError('One of the certificates is not valid PEM.', 'trustedCaPem');
    }
  }
  return blocks.join('\n');
}

export async function getNetworkSettings(db: Db): Promise<NetworkSettingsInput & { updatedAt: Date | null }> {
  const row = await db.networkSettings.findUnique({ where: { id: 1 } });
  return { allowedHosts: row?.allowedHosts ?? '', insecureHosts: row?.insecureHosts ?? '', trustedCaPem: row?.trustedCaPem ?? null, updatedAt: row?.updatedAt ?? null };
}

export async function updateNetworkSettings(db: Db, actor: { userId: string; ip?: string | null }, input: NetworkSettingsInput) {
  rulesOrThrow(input.allowedHosts, 'allowedHosts', 'Allowed private hosts');
  rulesOrThrow(input.insecureHosts, 'insecureHosts', 'Insecure hosts');
  const trustedCaPem = validateCaPem(input.trustedCaPem);
  const data = { allowedHosts: input.allowedHosts.trim(), insecureHosts: input.insecureHosts.trim(), trustedCaPem };
  await db.$transaction(async (tx) => {
    await tx.networkSettings.upsert({ where: { id: 1 }, create: { id: 1, ...data }, update: data });
    await recordAudit(tx, {
      action: 'settings.network_update',
      actorUserId: actor.userId,
      details: { allowedHosts: data.allowedHosts, insecureHosts: data.insecureHosts, trustedCa: trustedCaPem ? 'set' : 'none' },
      ip: actor.ip,
    });
  });
  return getNetworkSettings(db);
}

type PolicyEnv = Pick<Env, 'MAILFERRY_ALLOWED_HOSTS' | 'MAILFERRY_INSECURE_HOSTS' | 'MAILFERRY_TRUSTED_CA_FILE'>;

/** Checks the policy variables at start, so a typo stops the start with the variable's name. */
export function validatePolicyEnv(env: PolicyEnv): void {
  rulesOrThrow(env.MAILFERRY_ALLOWED_HOSTS ?? '', 'environment', 'MAILFERRY_ALLOWED_HOSTS');
  rulesOrThrow(env.MAILFERRY_INSECURE_HOSTS ?? '', 'environment', 'MAILFERRY_INSECURE_HOSTS');
  if (env.MAILFERRY_TRUSTED_CA_FILE && !existsSync(env.MAILFERRY_TRUSTED_CA_FILE)) {
    throw new NetworkSettingsError(`MAILFERRY_TRUSTED_CA_FILE: ${env.MAILFERRY_TRUSTED_CA_FILE} does not exist`, 'environment');
  }
}

/** The policy in force: the environment's rules plus the admin's, and both CA sources. */
export async function loadNetworkPolicy(db: Db, env: PolicyEnv): Promise<NetworkPolicy> {
  return buildNetworkPolicy(env, await getNetworkSettings(db));
}

export function buildNetworkPolicy(env: PolicyEnv, settings: NetworkSettingsInput): NetworkPolicy {
  const allow = [
    ...rulesOrThrow(env.MAILFERRY_ALLOWED_HOSTS ?? '', 'environment', 'MAILFERRY_ALLOWED_HOSTS'),
    ...rulesOrThrow(settings.allowedHosts, 'allowedHosts', 'Allowed private hosts'),
  ];
  const insecure = [
    ...rulesOrThrow(env.MAILFERRY_INSECURE_HOSTS ?? '', 'environment', 'MAILFERRY_INSECURE_HOSTS'),
    ...rulesOrThrow(settings.insecureHosts, 'insecureHosts', 'Insecure hosts'),
  ];
  const fromFile = env.MAILFERRY_TRUSTED_CA_FILE ? readFileSync(env.MAILFERRY_TRUSTED_CA_FILE, 'utf8') : null;
  const pems = [fromFile, settings.trustedCaPem].filter((p): p is string => Boolean(p?.trim()));
  return { allow, insecure, extraCaPem: pems.length ? pems.join('\n') : null, allowedPorts: DEFAULT_ALLOWED_PORTS };
}
