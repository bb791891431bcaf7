import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { type ProbeProblems, probeReport, type ProbeReport } from './probe-report';

/** How often the event loop is timed. */
const TICK_MS = 500;
/** A loop that ran this late is not serving anyone in time: the process is reported not live. */
export const MAX_EVENT_LOOP_LAG_MS = 2000;

export interface ProcessLivenessOptions {
  /**
   * After the shutdown starts, how long the app keeps serving before it closes anything, with
   * readiness already 503, so a load balancer stops sending it requests first. 0 = none.
   */
  drainDelayMs?: number;
}

/**
 * Liveness of this process and the first step of its shutdown. Provide it in the app's root
 * module: Nest runs the root module's destroy hooks before any other module's, so on SIGTERM or
 * SIGINT `stopping` turns true before anything is closed, and readiness answers 503 during the
 * whole drain.
 */
export class ProcessLiveness implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Shutdown');
  private stoppingSince?: number;
  private lagMs = 0;
  private timer?: NodeJS.Timeout;
  private drained?: Promise<void>;

  constructor(private readonly options: ProcessLivenessOptions = {}) {}

  onModuleInit(): void {
    let last = Date.now();
    this.timer = setInterval(() => {
      const now = Date.now();
      this.lagMs = Math.max(0, now - last - TICK_MS);
      last = now;
    }, TICK_MS);
    this.timer.unref();
  }

  /** Called once per module that lists the provider: the drain delay runs once. */
  onModuleDestroy(): Promise<void> {
    if (this.drained) return this.drained;
    this.stoppingSince = Date.now();
    clearInterval(this.timer);
    const delay = this.options.drainDelayMs ?? 0;
    this.logger.log(
      delay > 0
        ? `Shutting down: /health/ready answers 503; serving ${delay} ms more before closing`
        : 'Shutting down: /health/ready answers 503',
    );
    this.drained = new Promise((resolve) => setTimeout(resolve, delay));
    return this.drained;
  }

  /** True from the moment the shutdown started. */
  get stopping(): boolean {
    return this.stoppingSince !== undefined;
  }

  /** How late the event loop ran its last timer (ms). */
  get eventLoopLagMs(): number {
    return this.lagMs;
  }

  /** The reason this process is not ready on its own account (shutting down), or null. */
  get shutdownProblem(): string | null {
    return this.stopping ? 'shutting down' : null;
  }

  /** /health/live: the event loop keeps time and the process is not shutting down. */
  live(): ProbeReport {
    const problems: ProbeProblems = {
      shutdown: this.shutdownProblem,
      eventLoop: this.lagMs > MAX_EVENT_LOOP_LAG_MS ? `event loop ${this.lagMs} ms late` : null,
    };
    return probeReport(problems);
  }
}
