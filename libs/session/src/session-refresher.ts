import { performance } from 'node:perf_hooks';

export interface RefreshRequest {
  sessionId: string;
  partition: number;
  secretHash: string;
}

/**
 * Batches background revalidations of cached sessions off the request path: one pipeline per
 * flush instead of one round trip per request. Each revalidation also performs the throttled
 * touch, so sliding expiry keeps working for sessions served from the cache.
 */
export class SessionRefresher {
  private queue = new Map<string, RefreshRequest>();
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly run: (batch: RefreshRequest[], startedAt: number) => Promise<void>,
    private readonly options: { batchSize: number; delayMs: number },
  ) {}

  enqueue(request: RefreshRequest): void {
    if (this.stopped) return;
    this.queue.set(request.sessionId, request);
    if (this.queue.size >= this.options.batchSize) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.delayMs).unref();
  }

  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.size === 0) return;
    const batch = [...this.queue.values()];
    this.queue = new Map();
    await this.run(batch, performance.now());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.flush();
  }
}
