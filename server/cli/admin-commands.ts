import { createDb } from '../db';
import { migrateDatabase } from '../database/migrate';
import { hashPassword, generatePassword } from '../auth/password';
import { normalizeEmail } from '../auth/sign-in';
import { recordAudit } from '../audit/audit';
import { MIN_PASSWORD_LENGTH } from '../organizations/schemas';
import { loadKeyRing } from '../crypto/keyring';
import { resealAll } from '../crypto/reseal';
import { resolveDataDir } from '../runtime/data-dir';
import { localDatabaseUrl } from '../runtime/local-database';
import type { Command } from './commands';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'Apply pending database migrations (npm start does this too).',
  usage: 'npm run ferry -- migrate',
  async run({ env, out }) {
    const applied = await migrateDatabase(await localDatabaseUrl(env));
    out(applied.length ? `Applied ${applied.length} migration(s): ${applied.join(', ')}` : 'The database is up to date.');
    return 0;
  },
};

export const setPasswordCommand: Command = {
  name: 'set-password',
  summary: "Set a user's password (generated and printed unless MAILFERRY_NEW_PASSWORD is set).",
  usage: 'npm run ferry -- set-password <email>',
  async run({ env, args, out }) {
    const email = args[0] ? normalizeEmail(args[0]) : undefined;
    if (!email) {
      out(`Usage: ${this.usage}`);
      return 2;
    }
    const given = process.env.MAILFERRY_NEW_PASSWORD;
    if (given !== undefined && given.length < MIN_PASSWORD_LENGTH) {
      out(`MAILFERRY_NEW_PASSWORD must be at least ${MIN_PASSWORD_LENGTH} characters.`);
      return 2;
    }
    const password = given ?? generatePassword();
    const db = createDb(await localDatabaseUrl(env));
    try {
      const user = await db.user.findUnique({ where: { email }, select: { id: true, organizationId: true } });
      if (!user) {
        out(`No user with the email ${email}.`);
        return 1;
      }
      await db.user.update({ where: { id: user.id }, data: { passwordHash: await hashPassword(password), sessionVersion: { increment: 1 } } });
      await recordAudit(db, { action: 'user.password_reset_cli', organizationId: user.organizationId, targetType: 'user', targetId: user.id });
      out(given === undefined ? `New password for ${email}: ${password}` : `Password of ${email} updated.`);
      return 0;
    } finally {
      await db.$disconnect();
    }
  },
};

export const resealCommand: Command = {
  name: 'reseal',
  summary: 'Re-encrypt every stored secret with the current sealing key (after adding a new key first in the key ring).',
  usage: 'npm run ferry -- reseal',
  async run({ env, out }) {
    const ring = await loadKeyRing({ env: process.env, dataDir: resolveDataDir(env.MAILFERRY_DATA_DIR) });
    const db = createDb(await localDatabaseUrl(env));
    try {
      const { resealed, current, unreadable } = await resealAll(db, ring);
      await recordAudit(db, { action: 'secrets.reseal', details: { resealed, current, unreadable, keyId: ring.current.id } });
      out(`Re-sealed ${resealed} secret(s) with key "${ring.current.id}"; ${current} already used it.`);
      if (unreadable > 0) {
        out(`${unreadable} secret(s) are sealed with keys that are not in the key ring; keep those keys until they are re-sealed.`);
        return 1;
      }
      out('Older keys can now be removed from the key ring.');
      return 0;
    } finally {
      await db.$disconnect();
    }
  },
};

