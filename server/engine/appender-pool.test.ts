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
  it('sends messages in the order they were handed over, also when a smaller one would fit first', async () => {
    const { appender, sent } = heldAppender();
    const pool = new AppenderPool([appender], 100);
    const uids: number[] = [];
    const append = (size: number) => pool.append('INBOX', [Buffer.alloc(size)], []).then((uid) => uids.push(uid!));
    const all = [append(60), append(50), append(10), append(30)];
    await settle();
    // 60 is in flight; 50 does not fit beside it, so 10 and 30 wait behind it.
    expect(sent.map((s) => s.size)).toEqual([60]);
    sent[0]!.answer();
    await settle();
    expect(sent.map((s) => s.size)).toEqual([60, 50, 10, 30]);
    for (const message of sent.slice(1)) message.answer();
    await Promise.all(all);
    expect(uids).toEqual([1, 2, 3, 4]);
  });

  it('asks readers to pause while messages wait, not only while the budget is in flight', async () => {
    const { appender, sent } = heldAppender();
    const pool = new AppenderPool([appender], 100);
    void pool.append('INBOX', [Buffer.alloc(90)], []);
    expect(pool.room()).toBeUndefined();
    // 90 in flight and 50 waiting: a reader must stop here, although 90 is under the budget.
    void pool.append('INBOX', [Buffer.alloc(50)], []);
    const room = pool.room();
    expect(room).toBeInstanceOf(Promise);
    let resumed = false;
    void room!.then(() => (resumed = true));
    await settle();
    expect(resumed).toBe(false);
    sent[0]!.answer();
    await settle();
    expect(resumed).toBe(true);
    expect(sent.map((s) => s.size)).toEqual([90, 50]);
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
