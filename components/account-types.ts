import type { AccountType } from '@/server/accounts/types';

/** How the portal names the account types (as the Information page does), in forms, lists and the admin pages. */
export const ACCOUNT_TYPE_LABELS: Record<AccountType, string> = {
  imap: 'IMAP',
  zimbra: 'Zimbra',
  kolab: 'Kolab (Plesk)',
  openxchange: 'Open-Xchange',
  exchange: 'Exchange (on-premise)',
  office365: 'Microsoft 365',
};
