import { checkAccount, microsoftEndpoints, type AccountCheck } from '../accounts/check';
import { buildNetworkPolicy, getNetworkSettings } from '../accounts/network-settings';
import { accountSchema, type AccountInput } from '../accounts/schemas';
import { ACCOUNT_TYPES, type AccountType } from '../accounts/types';
import { createDb } from '../db';
import { localDatabaseUrl } from '../runtime/local-database';
import { readAccountUrl } from './account-url';
import type { Command, CommandContext } from './commands';

/**
 * `imaps://user%40example.com@mail.example.com[:port]` (or imap://, https://, or a bare host)
 * → an account. The password comes from --password-file, MAILFERRY_PASSWORD or the URL.
 */
export async function accountFromUrl(text: string, options: CommandContext['options'], environment: Record<string, string | undefined>): Promise<AccountInput> {
  const passwordFile = typeof options['password-file'] === 'string' ? options['password-file'] : undefined;
  const { scheme, host, user, password, bare } = await readAccountUrl(text, passwordFile, environment.MAILFERRY_PASSWORD);
  const type = (typeof options.type === 'string' ? options.type : 'imap') as AccountType;
  if (!ACCOUNT_TYPES.includes(type)) throw new Error(`--type must be one of ${ACCOUNT_TYPES.join(', ')}`);
  const server = scheme === 'https' || scheme === 'http' ? bare.href : `${scheme}://${host}`;
  const email = typeof options.email === 'string' ? options.email : user.includes('@') ? user : '';
  const parsed = accountSchema.safeParse({ type, email, username: user, password: password ?? '', server });
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'));
  return parsed.data;
}

export function describeCheck(result: AccountCheck): string {
  if (!result.ok) return `✗ ${result.message}${result.protocol ? ` (${result.protocol})` : ''}`;
  const lines = result.reports.map((r) => {
    const collections = r.collections.length ? `${r.collections.length} ${r.protocol === 'imap' ? 'folders' : 'collections'}` : 'no collections';
    return `  ${r.protocol.padEnd(8)} ${collections}${r.capabilities.length ? ` · ${r.capabilities.join(', ')}` : ''}`;
  });
  return ['✓ The login works.', ...lines].join('\n');
}

export const checkCommand: Command = {
  name: 'check',
  summary: 'Check an account login, as the portal does (host policy included).',
  usage: [
    'npm run ferry -- check <imaps://user%40example.com@mail.example.com[:port]> [options]',
    '',
    'Options:',
    `  --type TYPE            ${ACCOUNT_TYPES.join(' | ')} (default imap)`,
    '  --email ADDRESS        the mailbox address, when the username is not one',
    '  --password-file FILE   read the password from FILE (or set MAILFERRY_PASSWORD)',
    '  --timeout SECONDS      per check (default 20)',
    '  --tenant-id ID --client-id ID   Microsoft 365 app registration (client secret in MAILFERRY_CLIENT_SECRET)',
  ].join('\n'),
  async run({ env, args, options, out }) {
    if (!args[0]) {
      out(`Usage: ${this.usage}`);
      return 2;
    }
    const account = await accountFromUrl(args[0], options, process.env);
    // The admin's network settings apply when the database is reachable; otherwise the
    // environment's rules alone (MAILFERRY_ALLOWED_HOSTS etc.).
    let settings = { allowedHosts: '', insecureHosts: '', trustedCaPem: null as string | null };
    const db = createDb(await localDatabaseUrl(env));
    try {
      settings = await Promise.race([
        getNetworkSettings(db),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 3000)),
      ]);
    } catch {
      console.error('(database not reachable: using the host rules of the environment only)');
    } finally {
      await db.$disconnect().catch(() => undefined);
    }
    const microsoft365 =
      typeof options['tenant-id'] === 'string' && typeof options['client-id'] === 'string'
        ? { tenantId: options['tenant-id'], clientId: options['client-id'], clientSecret: process.env.MAILFERRY_CLIENT_SECRET ?? '' }
        : null;
    const result = await checkAccount(account, {
      policy: buildNetworkPolicy(env, settings),
      timeoutMs: typeof options.timeout === 'string' ? Number(options.timeout) * 1000 : undefined,
      microsoft365,
      microsoftEndpoints: microsoftEndpoints(env),
      // Whoever runs the command line runs the installation: told what to allow and where.
      audience: 'admin',
    });
    out(describeCheck(result));
    return result.ok ? 0 : 1;
  },
};
