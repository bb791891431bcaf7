export interface ProgressStatus {
  /** `stalled`: events waited and none was settled for the progress timeout. */
  status: 'up' | 'stalled';
  /** Seconds since an entry last settled, or since work was first seen waiting if later. */
  secondsWithoutProgress: number;
}

/**
 * Whether the consumer makes progress: stalled when work has been waiting (entries held, or not
 * yet read) and no entry settled for `timeoutMs`. Idle time does not count: the clock starts
 * when work is first seen waiting, or at the last settled entry if that is later.
 */
export class ProgressWatch {
  private waitingSince: number | undefined;

  constructor(private readonly timeoutMs: number) {}

  check(waiting: boolean, lastProgressAt: number, now = Date.now()): ProgressStatus {
    if (!waiting) {
      this.waitingSince = undefined;
      return { status: 'up', secondsWithoutProgress: 0 };
    }
    this.waitingSince ??= now;
    const quietMs = now - Math.max(this.waitingSince, lastProgressAt);
    return {
      status: quietMs > this.timeoutMs ? 'stalled' : 'up',
      secondsWithoutProgress: Math.max(0, Math.round(quietMs / 1000)),
    };
  }
}
