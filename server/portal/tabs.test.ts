import { describe, expect, it } from 'vitest';
import { portalTabs } from './tabs';

describe('portal tabs', () => {
  it('gives free customers the four free-mode tabs', () => {
    expect(portalTabs({ role: 'customer' }, 'free').map((t) => t.label)).toEqual(['Free migration', 'Migration status', 'Privacy', 'Information']);
  });
  it('gives commercial customers the seven commercial tabs', () => {
    expect(portalTabs({ role: 'customer' }, 'commercial').map((t) => t.label)).toEqual([
      'Migration',
      'Mass migration',
      'Active migrations',
      'Finished migrations',
      'License list',
      'Privacy',
      'Information',
    ]);
  });
  it('gives admins and resellers their management tabs', () => {
    expect(portalTabs({ role: 'admin' }, null).map((t) => t.href)).toEqual(['/admin/organizations', '/admin/migrations', '/admin/mailboxes', '/admin/keys', '/admin/settings', '/admin/audit', '/information']);
    expect(portalTabs({ role: 'reseller' }, null).map((t) => t.label)).toEqual(['Customers', 'Licence keys', 'Information']);
  });
});
