'use client';

/** The organization's deletion receipts (placeholder until they are built). */
export function ReceiptsSection(_props: { organizationId?: string }) {
  return null;
}
