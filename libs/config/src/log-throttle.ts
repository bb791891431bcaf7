/**
 * Keeps a message that repeats (a reconnect attempt every few hundred ms while Redis is down)
 * from flooding the log: the first one of a window is written, the others only counted, and the
 * next one written says how many there were. One per `key` (e.g. per connection).
 */
export class LogThrottle {
  private readonly windows = new Map<string, { startedAt: number; count: number }>();

  constructor(
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The line to write for this occurrence of `message`, or null to write nothing. When earlier
   * ones were held back it ends with `(N times in the last 10 s)`.
   */
  line(key: string, message: string): string | null {
    const now = this.now();
    const window = this.windows.get(key);
    if (window && now - window.startedAt < this.windowMs) {
      window.count++;
      return null;
    }
    this.windows.set(key, { startedAt: now, count: 1 });
    if (!window || window.count <= 1) return message;
    const seconds = Math.round((now - window.startedAt) / 1000);
    return `${message} (${window.count} times in the last ${seconds} s)`;
  }

  /** Starts afresh for `key` (e.g. once the connection is back), so the next line is written. */
  reset(key: string): void {
    this.windows.delete(key);
  }
}
