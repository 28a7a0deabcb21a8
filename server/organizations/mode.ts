import type { Db } from '../db';

export type OrganizationMode = 'free' | 'commercial';

/**
 * Free until the organization registers its first licence key. Licence keys do not exist
 * yet, so every organization is in free mode for now.
 */
export async function organizationMode(_db: Db, _organizationId: string): Promise<OrganizationMode> {
  return 'free';
}
