import { startCourier } from './courier';
import { startCyrus } from './cyrus';
import { startDovecot } from './dovecot';

/*
 * One shape for every real IMAP server the tests run, so a test can run against each of them
 * and branch only on what the servers really do differently (separator, personal prefix).
 */

export type ImapServerKind = 'dovecot' | 'cyrus' | 'courier';

export const IMAP_SERVER_KINDS: readonly ImapServerKind[] = ['dovecot', 'cyrus', 'courier'];

export interface ImapTestUser {
  username: string;
  password: string;
}

export interface ImapServerOptions {
  users: ImapTestUser[];
  /**
   * Give each user the folders its hosting product creates (Kolab on Cyrus: Sent, Drafts, Trash,
   * Spam; Plesk on Courier: INBOX.Sent, INBOX.Drafts, INBOX.Trash, INBOX.Spam). Default true.
   * Dovecot always gets Drafts, Sent, Trash and Junk (see DOVECOT_SPECIAL_USE_FOLDERS).
   */
  precreate?: boolean;
  /** Cyrus: keep session transcripts for logs() (default true). Off for measurements. */
  protocolLog?: boolean;
}

export interface ImapTestServer {
  kind: ImapServerKind;
  host: '127.0.0.1';
  /** Plain IMAP; LOGIN with a plaintext password is allowed. */
  port: number;
  /** '/' for Cyrus (Kolab's unixhierarchysep) and this Dovecot, '.' for Courier. */
  separator: string;
  /** Where a user's own folders begin: '' for Cyrus's altnamespace and Dovecot, 'INBOX.' for Courier. */
  personalPrefix: string;
  /** Temp folder with the server's config, users and mail; removed by stop(). */
  rootDir: string;
  /** Adds a user (with the precreated folders when the server was started with them). */
  addUser(user: ImapTestUser): Promise<void>;
  logs(): Promise<string>;
  /** Stops every process of this instance and deletes rootDir. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startImapServer(kind: ImapServerKind, options: ImapServerOptions): Promise<ImapTestServer> {
  if (kind === 'cyrus') return startCyrus(options);
  if (kind === 'courier') return startCourier(options);
  const dovecot = await startDovecot({ users: options.users, tls: 'none' });
  return {
    kind,
    host: '127.0.0.1',
    port: dovecot.port,
    separator: dovecot.separator,
    personalPrefix: '',
    rootDir: dovecot.rootDir,
    addUser: (user) => dovecot.addUser(user),
    logs: () => dovecot.logs(),
    stop: () => dovecot.stop(),
  };
}
