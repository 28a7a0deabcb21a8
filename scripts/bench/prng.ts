import { createCipheriv, createHash } from 'node:crypto';

/**
 * Small seeded PRNG (sfc32) whose state comes from a text label, so every message can own an
 * independent stream ("seed:index"): adding or reordering messages never shifts the content of
 * the others, which is what makes `--add` and same-seed reruns byte-identical.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(label: string) {
    const digest = createHash('sha256').update(label).digest();
    this.a = digest.readUInt32LE(0);
    this.b = digest.readUInt32LE(4);
    this.c = digest.readUInt32LE(8);
    this.d = digest.readUInt32LE(12);
    // sfc32's first outputs are correlated with the seed words.
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** Integer in [min, max], both ends included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick() from an empty list');
    return item;
  }

  weighted<T>(entries: readonly { value: T; weight: number }[]): T {
    const total = entries.reduce((sum, entry) => sum + entry.weight, 0);
    let r = this.next() * total;
    for (const entry of entries) {
      r -= entry.weight;
      if (r < 0) return entry.value;
    }
    const last = entries[entries.length - 1];
    if (!last) throw new Error('weighted() from an empty list');
    return last.value;
  }

  /** k distinct integers from [0, n), in draw order (partial Fisher-Yates). */
  sample(n: number, k: number): number[] {
    if (k > n) throw new Error(`cannot sample ${k} of ${n}`);
    const pool = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(this.next() * (n - i));
      const picked = pool[j] as number;
      pool[j] = pool[i] as number;
      pool[i] = picked;
    }
    return pool.slice(0, k);
  }
}

/**
 * Incompressible attachment bytes: AES-CTR over zeros is deterministic for a label and
 * produces megabytes far faster than a JS PRNG loop.
 */
export function pseudoRandomBytes(label: string, length: number): Buffer {
  const key = createHash('sha256').update(`bytes:${label}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]);
}
