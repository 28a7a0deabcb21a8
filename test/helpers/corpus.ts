import { chown, mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CORPUS_EMPTY_FOLDERS,
  CORPUS_FOLDERS,
  corpusFolderName,
  generateCorpus,
  type CorpusManifest,
} from '../../scripts/bench/corpus';
import { run } from './child-process';
import type { DovecotServer } from './dovecot';

/*
 * Where test/helpers/dovecot.ts keeps things. It does not export these, so they are derived
 * from its config template (`mail_location = maildir:~/Maildir`, `home=<rootDir>/home/%u`,
 * `auth_username_format = %Lu`); keep them in step if that template changes.
 */

export function dovecotConfigPath(server: Pick<DovecotServer, 'rootDir'>): string {
  return path.join(server.rootDir, 'dovecot.conf');
}

export function dovecotHome(server: Pick<DovecotServer, 'rootDir'>, username: string): string {
  return path.join(server.rootDir, 'home', username.toLowerCase());
}

export function dovecotMaildir(server: Pick<DovecotServer, 'rootDir'>, username: string): string {
  return path.join(dovecotHome(server, username), 'Maildir');
}

/** Runs `doveadm` against the private instance (it talks to that instance's auth sockets). */
export async function doveadm(server: Pick<DovecotServer, 'rootDir'>, args: readonly string[]): Promise<string> {
  const { stdout } = await run('doveadm', ['-c', dovecotConfigPath(server), ...args], { timeoutMs: 300_000 });
  return stdout;
}

export interface FillCorpusOptions {
  /** Messages for a new corpus (duplicates included). Ignored with `add`. */
  count?: number;
  seed?: number;
  /** Add this many new distinct messages to a corpus made earlier for the same user. */
  add?: number;
}

/**
 * Fills a user's mailbox of a private Dovecot with the benchmark corpus (see
 * scripts/bench/corpus.ts) and makes Dovecot index it, so the first IMAP client sees every
 * message at once. The user must exist; the mailbox must be empty unless `add` is given.
 * Returns the manifest, whose folder names use the server's separator.
 */
export async function fillCorpus(
  server: Pick<DovecotServer, 'rootDir' | 'separator'>,
  username: string,
  options: FillCorpusOptions,
): Promise<CorpusManifest> {
  const homeRoot = path.join(server.rootDir, 'home');
  // The home root belongs to the mail user (nobody as root, else ourselves).
  const { uid, gid } = await stat(homeRoot);
  const home = dovecotHome(server, username);
  await mkdir(home, { recursive: true });
  await chown(home, uid, gid);
  const manifest = await generateCorpus({
    maildir: dovecotMaildir(server, username),
    separator: server.separator,
    owner: { uid, gid },
    ...(options.add !== undefined ? { add: options.add } : { count: options.count ?? 50, seed: options.seed ?? 1 }),
  });
  const user = username.toLowerCase();
  if (options.add === undefined) {
    const names = [...CORPUS_FOLDERS.map((f) => f.path), ...CORPUS_EMPTY_FOLDERS].map((levels) =>
      corpusFolderName(levels, server.separator),
    );
    await doveadm(server, ['mailbox', 'subscribe', '-u', user, ...names]);
  }
  // Files dropped into cur/ are found by Dovecot's next maildir sync anyway; indexing now moves
  // that cost (and the index.cache build) out of whatever the caller measures next.
  await doveadm(server, ['index', '-u', user, '*']);
  return manifest;
}

/**
 * Deletes a user's whole mailbox, as a hoster re-creating the account does: the next login
 * finds a new, empty INBOX with a new UIDVALIDITY. Sessions still closing would write their
 * indexes back into the deleted folders, so they are kicked and given time to end first, and
 * the folder is removed again after they are surely gone.
 */
export async function recreateDovecotAccount(server: Pick<DovecotServer, 'rootDir'>, username: string): Promise<void> {
  await doveadm(server, ['kick', username.toLowerCase()]).catch(() => undefined);
  await sleep(300);
  await rm(dovecotMaildir(server, username), { recursive: true, force: true });
  await sleep(1100);
  await rm(dovecotMaildir(server, username), { recursive: true, force: true });
}
