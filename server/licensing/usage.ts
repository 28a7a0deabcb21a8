/**
 * Purchased units form one pool, but resellers and customers want to see each key's share:
 * usage is attributed to licences in the order they were registered (the oldest licence is
 * used up first), which is what a customer would expect from "10 + 5 = 15, 12 used".
 */
export function attributeUsage<K extends { id: string; size: number; registeredAt: Date | null }>(licences: K[], used: number): Map<string, number> {
  const ordered = [...licences].sort((a, b) => (a.registeredAt?.getTime() ?? 0) - (b.registeredAt?.getTime() ?? 0) || a.id.localeCompare(b.id));
  const shares = new Map<string, number>();
  let left = Math.max(0, used);
  for (const licence of ordered) {
    const share = Math.min(licence.size, left);
    shares.set(licence.id, share);
    left -= share;
  }
  return shares;
}
