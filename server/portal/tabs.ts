import type { SessionUser } from '../auth/session-user';
import type { OrganizationMode } from '../licensing/quota';

export interface PortalTab {
  label: string;
  href: string;
}

/** The tabs of the signed-in shell: by role, and for customers by their organization's mode. */
export function portalTabs(user: Pick<SessionUser, 'role'>, mode: OrganizationMode | null): PortalTab[] {
  switch (user.role) {
    case 'admin':
      return [
        { label: 'Organizations', href: '/admin/organizations' },
        { label: 'All migrations', href: '/admin/migrations' },
        { label: 'Hosted mailboxes', href: '/admin/mailboxes' },
        { label: 'Licence keys', href: '/admin/keys' },
        { label: 'Settings', href: '/admin/settings' },
        { label: 'Audit log', href: '/admin/audit' },
        { label: 'Information', href: '/information' },
      ];
    case 'reseller':
      return [
        { label: 'Customers', href: '/reseller/customers' },
        { label: 'Licence keys', href: '/reseller/keys' },
        { label: 'Information', href: '/information' },
      ];
    case 'customer':
      return mode === 'commercial'
        ? [
            { label: 'Migration', href: '/migrations/new' },
            { label: 'Mass migration', href: '/migrations/mass' },
            { label: 'Active migrations', href: '/migrations' },
            { label: 'Finished migrations', href: '/migrations/finished' },
            { label: 'License list', href: '/licenses' },
            { label: 'Privacy', href: '/privacy' },
            { label: 'Information', href: '/information' },
          ]
        : [
            { label: 'Free migration', href: '/migrations/new' },
            { label: 'Migration status', href: '/migrations' },
            { label: 'Privacy', href: '/privacy' },
            { label: 'Information', href: '/information' },
          ];
  }
}
