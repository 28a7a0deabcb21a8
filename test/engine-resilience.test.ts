import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ImapFlow } from 'imapflow';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ALLOWED_PORTS, type NetworkPolicy } from '@/server/accounts/network/host-policy';
import { parseHostRules } from '@/server/accounts/network/host-rules';
import { copyMailbox } from '@/server/engine/copy-mailbox';
import { MemoryStateStore } from '@/server/engine/state';
import { fillCorpus } from './helpers/corpus';
import { startCuttingProxy } from './helpers/cutting-proxy';
import { startDovecot, type DovecotServer } from './helpers/dovecot';
import { openImap, snapshotMailbox } from './helpers/mailbox';

const password = 'resilience-pw';
let dovecot: DovecotServer;
let users = 0;
let dir: string;
const clients: ImapFlow[] = [];

async function newUser(): Promise<string> {
  const username = `r${++users}-${Date.now()}@example.test`;
  await dovecot.addUser({ username, password });
  return username;
}

async function expectExact(source: string, target: string) {
  const [a, b] = [await openImap(dovecot.port, source, password), await openImap(dovecot.port, target, password)];
  clients.push(a, b);
  const [expected, actual] = [await snapshotMailbox(a), await snapshotMailbox(b)];
  for (const [folder, messages] of expected) expect(actual.get(folder)?.length, folder).toBe(messages.length);
  expect(actual).toEqual(expected);
  return [...expected.values()].reduce((n, m) => n + m.length, 0);
}

describe('engine under failure', () => {
  beforeAll(async () => {
    dovecot = await startDovecot({ users: [], tls: 'none' });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mailferry-resilience-'));
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.logout().catch(() => c.close())));
  });
  afterAll(async () => {
    await dovecot?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('copies the benchmark corpus exactly (duplicates, no Message-ID, keywords, non-ASCII folders)', async () => {
    const [source, target] = [await newUser(), await newUser()];
    const manifest = await fillCorpus(dovecot, source, { count: 120, seed: 7 });
    const policy: NetworkPolicy = { allow: parseHostRules('127.0.0.0/8').rules, insecure: parseHostRules('127.0.0.1').rules, extraCaPem: null, allowedPorts: [...DEFAULT_ALLOWED_PORTS, dovecot.port] };
    const server = { host: '127.0.0.1', port: dovecot.port, security: 'starttls' as const };
    const state = new MemoryStateStore();
    const run = () => copyMailbox({ source: { server, auth: () => ({ user: source, pass: password }) }, target: { server, auth: () => ({ user: target, pass: password }) }, policy, state });
    const first = await run();
    expect(first.messages.failed).toBe(0);
    expect(await expectExact(source, target)).toBe(manifest.count);
    expect(manifest.duplicatesSameFolder + manifest.copiesOtherFolder).toBeGreaterThan(0);
    expect((await run()).messages).toEqual({ total: 0, copied: 0, skipped: 0, failed: 0 });
  });

  it('survives a source that drops the connection in the middle of a message, and ends exact', async () => {
    const [source, target] = [await newUser(), await newUser()];
    await fillCorpus(dovecot, source, { count: 60, seed: 3 });
    // The first two source connections that carry 150 KB die there: inside a FETCH of message bodies.
    const proxy = await startCuttingProxy({ targetHost: '127.0.0.1', targetPort: dovecot.port, cutAfterServerBytes: 150_000, cuts: 2, choose: 'first-to-reach' });
    try {
      const policy: NetworkPolicy = { allow: parseHostRules('127.0.0.0/8').rules, insecure: parseHostRules('127.0.0.1').rules, extraCaPem: null, allowedPorts: [...DEFAULT_ALLOWED_PORTS, dovecot.port, proxy.port] };
      const summary = await copyMailbox({
        source: { server: { host: '127.0.0.1', port: proxy.port, security: 'starttls' }, auth: () => ({ user: source, pass: password }) },
        target: { server: { host: '127.0.0.1', port: dovecot.port, security: 'starttls' }, auth: () => ({ user: target, pass: password }) },
        policy,
        state: new MemoryStateStore(),
      });
      expect(proxy.cutCount).toBe(2);
      expect(summary).toMatchObject({ isComplete: true, messages: { failed: 0 } });
      await expectExact(source, target);
    } finally {
      await proxy.stop();
    }
  });

  it('resumes after the copy process is killed with SIGKILL, with nothing missing and nothing twice', async () => {
    const [source, target] = [await newUser(), await newUser()];
    await fillCorpus(dovecot, source, { count: 400, seed: 11 });
    const stateFile = path.join(dir, 'kill.state.json');
    const args = ['scripts/ferry.mjs', 'copy', '--from', `imap://${encodeURIComponent(source)}@127.0.0.1:${dovecot.port}`, '--to', `imap://${encodeURIComponent(target)}@127.0.0.1:${dovecot.port}`, '--state', stateFile, '--json'];
    const env = { PATH: process.env.PATH, NODE_ENV: 'production' as const, MAILFERRY_FROM_PASSWORD: password, MAILFERRY_TO_PASSWORD: password, MAILFERRY_ALLOWED_HOSTS: `127.0.0.1/32:${dovecot.port}`, MAILFERRY_INSECURE_HOSTS: '127.0.0.1' };

    // Kill it once some folder has a checkpoint past its start: mid-copy, appends in flight.
    const child = spawn(process.execPath, args, { env, stdio: 'ignore' });
    const killedAt = await new Promise<number>((resolve, reject) => {
      const timer = setInterval(() => {
        try {
          if (!existsSync(stateFile)) return;
          const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { folders: { lastUid: number }[] };
          const progressed = state.folders.reduce((n, f) => n + f.lastUid, 0);
          if (progressed > 0) {
            clearInterval(timer);
            child.kill('SIGKILL');
            resolve(progressed);
          }
        } catch {
          // the file is replaced atomically; a read between write and rename just retries
        }
      }, 5);
      child.on('exit', () => {
        clearInterval(timer);
        reject(new Error('the copy finished before it could be killed'));
      });
    });
    expect(killedAt).toBeGreaterThan(0);
    await new Promise((resolve) => child.once('exit', resolve));

    const resumed = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const again = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      again.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      again.on('exit', (code) => resolve({ code, out }));
    });
    expect(resumed.code).toBe(0);
    const summary = JSON.parse(resumed.out.trim().split('\n').at(-1)!) as { messages: { copied: number; skipped: number; failed: number } };
    expect(summary.messages.failed).toBe(0);
    await expectExact(source, target);
  }, 120_000);

  it('ends exact after being killed three times while one batch is checkpointed and the next is being stored', async () => {
    const [source, target] = [await newUser(), await newUser()];
    await fillCorpus(dovecot, source, { count: 300, seed: 5 });
    const stateFile = path.join(dir, 'overlap.state.json');
    const env = {
      PATH: process.env.PATH,
      NODE_ENV: 'production' as const,
      MAILFERRY_COPY_CHILD: JSON.stringify({ port: dovecot.port, source: { user: source, pass: password }, target: { user: target, pass: password }, stateFile, batchMessages: 7 }),
    };
    const run = () => spawn(process.execPath, ['--import', 'tsx', 'test/helpers/copy-child.ts'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const progressed = () => {
      try {
        return (JSON.parse(readFileSync(stateFile, 'utf8')) as { folders: { messagesCopied: number }[] }).folders.reduce((n, f) => n + f.messagesCopied, 0);
      } catch {
        return 0;
      }
    };
    // Each run is killed a little further on, always after a checkpoint of a 7-message batch.
    for (const after of [20, 90, 160]) {
      const child = run();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if (progressed() >= after || child.exitCode !== null) {
            clearInterval(timer);
            child.kill('SIGKILL');
            resolve();
          }
        }, 2);
      });
      await exited;
    }
    expect(progressed()).toBeLessThan(300);
    const last = run();
    let out = '';
    last.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    expect(await new Promise((resolve) => last.once('exit', resolve))).toBe(0);
    expect((JSON.parse(out.trim()) as { failed: number }).failed).toBe(0);
    await expectExact(source, target);
  }, 120_000);
});
