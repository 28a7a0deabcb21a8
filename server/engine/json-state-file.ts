import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * The command line's state as one JSON file: read once, changed in memory, replaced atomically
 * (write a temporary file, rename) at most every `intervalMs` and by close(). A run killed
 * between two writes loses only the last few changes, which the copies find again on the target.
 * A write that failed is thrown at the next change or at close().
 */
export class JsonStateFile<T> {
  private state: T | undefined;
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private lastWrite = 0;
  private failure: unknown;
  private madeFolder = false;

  constructor(
    readonly file: string,
    private readonly options: {
      /** The state of a file that does not exist yet. */
      empty: () => T;
      /** Throws when the file is not a state file this version reads. */
      check: (state: T) => void;
      intervalMs: number;
    },
  ) {}

  async read(): Promise<T> {
    if (!this.state) {
      const state = existsSync(this.file) ? (JSON.parse(await fs.readFile(this.file, 'utf8')) as T) : this.options.empty();
      this.options.check(state);
      this.state = state;
    }
    return this.state;
  }

  /** The state read has been changed: written soon. */
  changed(): void {
    this.throwFailure();
    if (this.timer) return;
    const wait = this.lastWrite + this.options.intervalMs - Date.now();
    if (wait <= 0) this.write();
    else
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.write();
      }, wait);
  }

  /** Writes what is not written yet and waits for it; the file can go on being used. */
  async close(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.write();
    }
    await this.writing;
    this.throwFailure();
  }

  private throwFailure() {
    if (this.failure === undefined) return;
    const failure = this.failure;
    this.failure = undefined;
    throw failure;
  }

  /** Writes the state as it is when the write begins, after any write under way. */
  private write() {
    this.lastWrite = Date.now();
    this.writing = this.writing.then(async () => {
      try {
        const snapshot = JSON.stringify(this.state);
        if (!this.madeFolder) await fs.mkdir(path.dirname(this.file), { recursive: true });
        this.madeFolder = true;
        const temp = `${this.file}.${process.pid}.tmp`;
        await fs.writeFile(temp, snapshot, { mode: 0o600 });
        await fs.rename(temp, this.file);
      } catch (error) {
        this.failure = error;
      }
    });
  }
}
