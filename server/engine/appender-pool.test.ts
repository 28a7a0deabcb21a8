import { describe, expect, it } from 'vitest';
import { AppenderPool } from './appender-pool';
import type { Appender } from './pipelined-appender';

/** An appender whose appends the test answers one by one. */
function heldAppender() {
  const sent: { path: string; size: number; answer: () => void }[] = [];
  let uid = 0;
  const appender: Appender = {
    usable: true,
    reportsUids: true,
    heldBytes: 0,
    flush() {},
    append: (path, content) =>
      new Promise<number>((resolve) => {
        sent.push({ path, size: content[0]!.length, answer: () => resolve(++uid) });
      }),
    close: async () => {},
  };
  return { appender, sent };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('AppenderPool', () => {
  it('sends messages in the order they were handed over, once the bytes in flight are below the budget', async () => {
    const { appender, sent } = heldAppender();
    const pool = new AppenderPool([appender], 100);
    const uids: number[] = [];
    const append = (size: number) => pool.append('INBOX', [Buffer.alloc(size)], []).then((uid) => uids.push(uid!));
    const all = [append(60), append(50), append(10), append(30)];
    await settle();
    // 60 and 50 are in flight, over the budget by one message; 10 and 30 wait.
    expect(sent.map((s) => s.size)).toEqual([60, 50]);
    sent[1]!.answer();
    await settle();
    expect(sent.map((s) => s.size)).toEqual([60, 50, 10, 30]);
    for (const message of [sent[0]!, ...sent.slice(2)]) message.answer();
    await Promise.all(all);
    expect(uids.sort()).toEqual([1, 2, 3, 4]);
    expect(sent.map((s) => s.size)).toEqual([60, 50, 10, 30]);
  });

  it('asks readers to pause until what is in flight and waiting is below the budget', async () => {
    const { appender, sent } = heldAppender();
    const pool = new AppenderPool([appender], 100);
    void pool.append('INBOX', [Buffer.alloc(90)], []);
    void pool.append('INBOX', [Buffer.alloc(5)], []);
    expect(pool.room()).toBeUndefined();
    // 105 in flight and 40 waiting: a reader must stop until both are on their way and below the budget.
    void pool.append('INBOX', [Buffer.alloc(10)], []);
    void pool.append('INBOX', [Buffer.alloc(40)], []);
    expect(sent.map((s) => s.size)).toEqual([90, 5, 10]);
    const room = pool.room();
    expect(room).toBeInstanceOf(Promise);
    let resumed = false;
    void room!.then(() => (resumed = true));
    await settle();
    expect(resumed).toBe(false);
    sent[0]!.answer();
    await settle();
    expect(sent.map((s) => s.size)).toEqual([90, 5, 10, 40]);
    expect(resumed).toBe(true);
  });

  it('lets a message larger than the budget go alone', async () => {
    const { appender, sent } = heldAppender();
    const pool = new AppenderPool([appender], 100);
    const big = pool.append('INBOX', [Buffer.alloc(500)], []);
    await settle();
    expect(sent.map((s) => s.size)).toEqual([500]);
    const small = pool.append('INBOX', [Buffer.alloc(1)], []);
    await settle();
    expect(sent).toHaveLength(1);
    sent[0]!.answer();
    await settle();
    sent[1]!.answer();
    await expect(Promise.all([big, small])).resolves.toEqual([1, 2]);
  });
});
