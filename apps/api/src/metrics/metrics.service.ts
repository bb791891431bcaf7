import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export type LoginResult = 'ok' | 'failed';
export type RateLimitScope = 'ip' | 'user-ip' | 'user';
export type RevocationKind = 'logout' | 'session' | 'others' | 'admin';

/**
 * The app's Prometheus metrics, in a registry of its own (not prom-client's global one), so several
 * app instances in one process (tests) do not collide.
 */
@Injectable()
export class MetricsService implements OnModuleDestroy {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly logins = new Counter({
    name: 'session_logins_total',
    help: 'Login attempts that reached the credential check, by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly loginsRateLimited = new Counter({
    name: 'session_login_rate_limited_total',
    help: 'Login attempts refused by the rate limiter, by the limit that was hit',
    labelNames: ['scope'] as const,
    registers: [this.registry],
  });

  readonly writeRateLimited = new Counter({
    name: 'session_write_rate_limited_total',
    help: 'Session-changing requests refused by the per-session write rate limit',
    registers: [this.registry],
  });

  readonly revocations = new Counter({
    name: 'session_revocations_total',
    help: 'Revocations performed through this instance, by kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly rotations = new Counter({
    name: 'session_rotations_total',
    help: 'Session token rotations performed through this instance',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Series exist from the start (at 0), so dashboards and alerts see them before the first event.
    for (const result of ['ok', 'failed'] as const) this.logins.inc({ result }, 0);
    for (const scope of ['ip', 'user-ip', 'user'] as const)
      this.loginsRateLimited.inc({ scope }, 0);
    for (const kind of ['logout', 'session', 'others', 'admin'] as const) {
      this.revocations.inc({ kind }, 0);
    }
  }

  login(result: LoginResult): void {
    this.logins.inc({ result });
  }

  rateLimited(scope: RateLimitScope): void {
    this.loginsRateLimited.inc({ scope });
  }

  revoked(kind: RevocationKind): void {
    this.revocations.inc({ kind });
  }

  onModuleDestroy(): void {
    this.registry.clear();
  }
}
