/**
 * Every action the audit log records, with the words the admins' audit log page shows for it.
 * No imports: the page's filter list reads the same table in the browser.
 */
export const AUDIT_GROUPS = [
  { prefix: 'auth.', label: 'Sign-in' },
  { prefix: 'user.', label: 'Users' },
  { prefix: 'organization.', label: 'Organizations' },
  { prefix: 'reseller.', label: 'Resellers' },
  { prefix: 'licence_key.', label: 'Licence keys' },
  { prefix: 'migration.', label: 'Migrations' },
  { prefix: 'mass.', label: 'Mass migrations' },
  { prefix: 'privacy.', label: 'Data protection' },
  { prefix: 'hosted_mailbox.', label: 'Hosted mailboxes' },
  { prefix: 'settings.', label: 'Settings' },
  { prefix: 'microsoft365.', label: 'Microsoft 365 connection' },
  { prefix: 'secrets.', label: 'Stored secrets' },
] as const;

export type AuditGroupPrefix = (typeof AUDIT_GROUPS)[number]['prefix'];

export const AUDIT_ACTIONS = {
  'auth.sign_in': 'Signed in',
  'auth.sign_in_failed': 'Failed sign-in',
  'auth.sign_out': 'Signed out',

  'user.create': 'User added',
  'user.remove': 'User removed',
  'user.disable': 'User disabled',
  'user.enable': 'User enabled',
  'user.set_password': 'Password set for a user',
  'user.update_own_name': 'Own name changed',
  'user.change_own_password': 'Own password changed',
  'user.update_own_notifications': 'Notification settings changed',
  'user.bootstrap_admin': 'First administrator created',
  'user.password_reset_cli': 'Password reset on the command line',

  'organization.create_customer': 'Customer organization created',
  'organization.create_reseller': 'Reseller organization created',
  'organization.rename': 'Organization renamed',
  'organization.delete': 'Organization deleted',
  'organization.remove_personal_data': 'Personal data removed',

  'reseller.set_unused_key_cap': 'Unused key limit changed',

  'licence_key.issue': 'Licence keys issued',
  'licence_key.issue_cli': 'Licence keys issued on the command line',
  'licence_key.register': 'Licence key installed',
  'licence_key.revoke': 'Licence key revoked',

  'migration.check_failed': 'Login check failed',
  'migration.create': 'Migration created',
  'migration.cancel': 'Migration cancelled',
  'migration.finish': 'Migration finished',
  'migration.finish_incomplete': 'Migration ended incomplete',
  'migration.fail': 'Migration failed',

  'mass.submit': 'Mass migration submitted',

  'privacy.retention': 'Retention period applied',

  'hosted_mailbox.add': 'Hosted mailbox added',
  'hosted_mailbox.remove': 'Hosted mailbox removed',
  'hosted_mailbox.import': 'Hosted mailboxes imported',

  'settings.network_update': 'Network settings changed',

  'microsoft365.save': 'Microsoft 365 connection saved',
  'microsoft365.delete': 'Microsoft 365 connection removed',

  'secrets.reseal': 'Stored secrets re-sealed',
} as const satisfies Record<string, string>;

export type AuditAction = keyof typeof AUDIT_ACTIONS;

export function isAuditAction(action: string): action is AuditAction {
  return Object.hasOwn(AUDIT_ACTIONS, action);
}

/** The words for an action; one the table does not know yet reads as its name in words. */
export function auditActionLabel(action: string): string {
  if (isAuditAction(action)) return AUDIT_ACTIONS[action];
  const words = action.replace(/[._]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function auditGroupOf(action: string): (typeof AUDIT_GROUPS)[number] | null {
  return AUDIT_GROUPS.find((g) => action.startsWith(g.prefix)) ?? null;
}
