/**
 * An organization is in free mode until it registers its first licence key, then commercial.
 * The rule lives with the licences (server/licensing/quota.ts); this module keeps the import
 * path that the portal shell and other callers use.
 */
export { organizationMode, type OrganizationMode } from '../licensing/quota';
