import type { BlockList } from 'node:net';

export const DEFAULT_TRUSTED_PROXIES: string;
export function parseTrustedProxies(text: string): BlockList;
export function resolveClientAddress(forwardedFor: string | string[] | undefined, peer: string | undefined, trusted: BlockList): string | null;
export function installClientAddress(trusted: BlockList): void;
