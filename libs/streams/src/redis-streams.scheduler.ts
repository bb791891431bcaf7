/** Counting semaphore with FIFO hand-over: at most `limit` holders at a time. */
export class Semaphore {
  private active = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly limit: number) {}

  /** Slots currently held. */
  get running(): number {
    return this.active;
  }

  acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Hands the slot to the oldest waiter, or frees it. */
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.active--;
  }
}

/**
 * Serializes tasks per key: a task starts once every earlier task of its key has settled. Tasks
 * without a key start at once. Keys whose chain has drained are forgotten.
 */
export class KeyedSerializer {
  private readonly tails = new Map<string, Promise<void>>();

  /** Number of keys with queued or running tasks. */
  get size(): number {
    return this.tails.size;
  }

  run(key: string | undefined, task: () => Promise<void>): Promise<void> {
    if (key === undefined) return task();
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

/**
 * Resolves waiters once a counter drops below a limit (or when woken on shutdown). Up to `limit`
 * of the counted items may be excused (entries waiting for an in-place retry): they stay counted
 * in `value` but leave room, so a few failing entries cannot stop everyone else.
 */
export class CapacityGate {
  private count = 0;
  private excused = 0;
  private waiters: Array<() => void> = [];

  constructor(readonly limit: number) {}

  /** Items counted, excused ones included. */
  get value(): number {
    return this.count;
  }

  get free(): number {
    return Math.max(this.limit - this.charged, 0);
  }

  /** What counts against the limit. */
  private get charged(): number {
    return this.count - Math.min(this.excused, this.limit);
  }

  increment(): void {
    this.count++;
  }

  decrement(): void {
    this.count--;
    if (this.charged < this.limit) this.wakeAll();
  }

  /** One counted item stops counting against the limit (until `unexcuse()`). */
  excuse(): void {
    this.excused++;
    if (this.charged < this.limit) this.wakeAll();
  }

  unexcuse(): void {
    this.excused--;
  }

  /** Resolves when the counter is below the limit. */
  waitForRoom(): Promise<void> {
    if (this.charged < this.limit) return Promise.resolve();
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  wakeAll(): void {
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((wake) => wake());
  }
}

/** Resolves after `ms`, or at once (false) when the signal aborts. True when the time elapsed. */
export function delay(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
