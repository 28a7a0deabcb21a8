import { matchesHostRule, matchesHostRules, type HostRule, type HostRuleTarget } from './host-rules';
import { classifyAddress, type AddressClass } from './ip-ranges';

/**
 * The host policy's decisions that need no DNS: which ports may be reached, and whether one
 * address (an IP literal, or what a name resolved to) may be. The connectors' resolveTarget
 * and the mass migration's formal check, which runs in the browser, decide with these same
 * functions.
 */
export interface AddressPolicy {
  /** Hosts, addresses and ports the admin allows even though they are not public. */
  allow: readonly HostRule[];
  allowedPorts: readonly number[];
}

export type AddressVerdict =
  | { ok: true }
  /** Not a public address, and no allow rule covers it. */
  | { ok: false; refused: 'address'; kind: AddressClass }
  /** The port is not one of the allowed ports, and no rule naming the port covers this address. */
  | { ok: false; refused: 'port' };

/**
 * Whether any connection to `port` could be allowed: an allowed port, or one an allow rule
 * names. Asked before any DNS query reveals what we were asked to reach.
 */
export function isPortPermitted(policy: AddressPolicy, port: number): boolean {
  return policy.allowedPorts.includes(port) || policy.allow.some((rule) => rule.port === port);
}

/** Whether a connection to this address (reached as `target.host`) is allowed. */
export function judgeAddress(policy: AddressPolicy, target: HostRuleTarget): AddressVerdict {
  const kind = classifyAddress(target.address);
  if (kind !== 'public' && !matchesHostRules(policy.allow, target)) return { ok: false, refused: 'address', kind };
  if (!policy.allowedPorts.includes(target.port) && !matchesHostRules(policy.allow.filter((rule) => rule.port === target.port), target)) {
    return { ok: false, refused: 'port' };
  }
  return { ok: true };
}

/**
 * What can be known about a host name before it is resolved: whether its port could be
 * allowed. A name rule decides by the name alone; an address rule naming the port may still
 * cover whatever the name resolves to, so it leaves the answer to the lookup.
 */
export function isPortPermittedForName(policy: AddressPolicy, host: string, port: number): boolean {
  if (policy.allowedPorts.includes(port)) return true;
  return policy.allow.some((rule) => rule.port === port && (rule.kind === 'cidr' || matchesHostRule(rule, { host, address: '', port })));
}
