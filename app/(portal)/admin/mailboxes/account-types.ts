import type { AccountType } from '@/server/accounts/types';

/** How the admin pages name the account types (as the Information page does). */
export const accountTypeLabels: Record<AccountType, string> = {
  imap: 'IMAP',
  zimbra: 'Zimbra',
  kolab: 'Kolab (Plesk)',
  openxchange: 'Open-Xchange',
  exchange: 'Exchange (on-premise)',
  office365: 'Microsoft 365',
};
