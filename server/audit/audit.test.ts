import { describe, expect, it } from 'vitest';
import { AuditSecretError, recordAudit, secretsIn } from './audit';
import { auditActionLabel } from './actions';

describe('audit details never hold a secret', () => {
  it('names the secret-looking parts by path, and lets counts and flags about them pass', () => {
    expect(secretsIn({ email: 'a@example.test', password: 'hunter2', nested: { clientSecret: 'x', refresh_token: 'y' } })).toEqual([
      'details.password',
      'details.nested.clientSecret',
      'details.nested.refresh_token',
    ]);
    expect(secretsIn({ keysRevoked: 2, generated: true, lastGroup: 'B6JEA', trustedCa: 'set', tenantId: 't', passwordSealed: null })).toEqual([]);
    expect(secretsIn({ note: 'MF-7QK4M-XC9RT-2HWPN-B6JEA' })).toEqual(['details.note']);
    expect(secretsIn({ lines: ['ok', '-----BEGIN PRIVATE KEY-----\nabc'] })).toEqual(['details.lines[1]']);
  });

  it('refuses such an entry outside production, before anything is written', async () => {
    let written = 0;
    const db = { auditEvent: { create: async () => void (written += 1) } } as unknown as Parameters<typeof recordAudit>[0];
    await expect(recordAudit(db, { action: 'settings.network_update', details: { sealedSecret: 'v1.k.abc' } })).rejects.toBeInstanceOf(AuditSecretError);
    expect(written).toBe(0);
    await recordAudit(db, { action: 'settings.network_update', details: { allowedHosts: ['mail.example.test'] } });
    expect(written).toBe(1);
  });

  it('labels every action in words', () => {
    expect(auditActionLabel('auth.sign_in_failed')).toBe('Failed sign-in');
    expect(auditActionLabel('something.new_thing')).toBe('Something new thing');
  });
});
