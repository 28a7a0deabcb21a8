import { DEFAULT_ALLOWED_PORTS, type NetworkPolicy } from '../../server/accounts/network/host-policy';
import { parseHostRules } from '../../server/accounts/network/host-rules';
import { parseServer } from '../../server/accounts/server-address';
import type { MailboxEndpoint } from '../../server/engine/copy-mailbox';
import { verifyMailbox, type FolderVerdict } from '../../server/engine/verify-mailbox';
import type { CopyEndpoint } from './copier';

/**
 * The verification the portal runs when a pass ends (server/engine/verify-mailbox.ts), over
 * the folders the copy reported, timed inside the engine like the copy's own `seconds`. With
 * `previous` (the verdicts of an earlier verification) unchanged folders keep theirs, as in
 * the portal's resync.
 */
export async function measureVerification(source: CopyEndpoint, target: CopyEndpoint, folders: { sourcePath: string; targetPath: string }[], previous?: readonly FolderVerdict[]) {
  const endpoint = (e: CopyEndpoint): MailboxEndpoint => ({ server: parseServer(`imap://${e.host}:${e.port}`).mail!, auth: () => ({ user: e.user, pass: e.password }) });
  const hosts = [...new Set([source.host, target.host])].join(',');
  // Loopback servers of the bench: plain text there, as for the copy (MAILFERRY_INSECURE_HOSTS).
  const policy: NetworkPolicy = {
    allow: parseHostRules(hosts).rules,
    insecure: parseHostRules(hosts).rules,
    extraCaPem: null,
    allowedPorts: [...DEFAULT_ALLOWED_PORTS, source.port, target.port],
  };
  const verdict = await verifyMailbox({ source: endpoint(source), target: endpoint(target), policy, folders, ...(previous ? { previous: new Map(previous.map((f) => [f.sourcePath, f])) } : {}) });
  return {
    seconds: verdict.seconds,
    sourceMessages: verdict.folders.reduce((n, f) => n + f.sourceMessages, 0),
    present: verdict.folders.reduce((n, f) => n + f.present, 0),
    missing: verdict.missing,
    unverified: verdict.unverified,
    verdicts: verdict.folders,
  };
}
