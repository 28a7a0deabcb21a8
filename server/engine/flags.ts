/**
 * The flags a copied message may carry on the target: \Recent is the server's own, and a
 * keyword the target cannot store for good (not in PERMANENTFLAGS, no \*) would be dropped
 * by it anyway; some servers answer NO to the whole APPEND instead.
 */
export function allowedFlags(flags: Set<string> | undefined, permanentFlags: Set<string>): string[] {
  return flagFilter(permanentFlags)(flags);
}

/** `allowedFlags` for one folder: the target's PERMANENTFLAGS looked at once. */
export function flagFilter(permanentFlags: Set<string>): (flags: Set<string> | undefined) => string[] {
  const anyKeyword = permanentFlags.has('\\*');
  const system = new Set(['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft']);
  const lowerPermanent = new Set([...permanentFlags].map((f) => f.toLowerCase()));
  return (flags) => {
    if (!flags) return [];
    return [...flags].filter((flag) => {
      if (flag === '\\Recent') return false;
      if (system.has(flag)) return permanentFlags.size === 0 || lowerPermanent.has(flag.toLowerCase());
      if (flag.startsWith('\\')) return false;
      return anyKeyword || lowerPermanent.has(flag.toLowerCase());
    });
  };
}
