/**
 * Helpers of the fault-injection suite: a small concurrent HTTP load against the api that records
 * every answer, and checks of the answers the api may give while Redis misbehaves.
 */
import { sleep } from '../support/sleep';

export { sleep };

/** What the api may answer under a Redis fault: success, "not logged in", or "unavailable". */
export const ALLOWED_STATUSES: ReadonlySet<number> = new Set([200, 201, 204, 401, 503]);

export interface LoadOptions {
  baseUrl: string;
  /** Tokens of live sessions the load uses (me, patch, list). */
  tokens: string[];
  /** Each request must be answered within this bound. */
  boundMs: number;
  /** Whether a 401 is acceptable (only after a restart that lost the sessions). */
  allow401: boolean;
  /** Whether the load logs in (creates sessions); default true. */
  logins?: boolean;
  concurrency?: number;
}

export type Op = 'me' | 'patch' | 'list' | 'login' | 'health' | 'ping';

const OPS: [Op, number][] = [
  ['me', 40],
  ['patch', 20],
  ['list', 10],
  ['login', 10],
  ['health', 10],
  ['ping', 10],
];

function pickOp(logins: boolean): Op {
  const ops = logins ? OPS : OPS.filter(([op]) => op !== 'login');
  let roll = Math.random() * ops.reduce((sum, [, weight]) => sum + weight, 0);
  for (const [op, weight] of ops) {
    roll -= weight;
    if (roll < 0) return op;
  }
  return 'me';
}

/**
 * A few loops of fetches until stopped. Every answer is checked: the status is one the api may
 * give, a 503 carries the JSON body `{ statusCode: 503, message, error }` (/health its own shape),
 * /ping never fails, and nothing takes longer than the bound.
 */
export class HttpLoad {
  readonly statuses = new Map<number, number>();
  readonly problems: string[] = [];
  requests = 0;
  slowestMs = 0;
  private running = false;
  private loops: Promise<void>[] = [];
  private counter = 0;

  constructor(private readonly options: LoadOptions) {}

  get count503(): number {
    return this.statuses.get(503) ?? 0;
  }

  get count500(): number {
    return [...this.statuses.entries()]
      .filter(([status]) => status >= 500 && status !== 503)
      .reduce((sum, [, n]) => sum + n, 0);
  }

  start(): void {
    this.running = true;
    this.loops = Array.from({ length: this.options.concurrency ?? 6 }, () => this.loop());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  summary(): string {
    const statuses = [...this.statuses.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([status, n]) => `${status}×${n}`)
      .join(' ');
    return `${this.requests} requests (${statuses}), slowest ${this.slowestMs} ms`;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      await this.once(pickOp(this.options.logins ?? true));
      // A breath between requests keeps the load small and steady.
      await sleep(5);
    }
  }

  private token(): string {
    const { tokens } = this.options;
    return tokens[Math.floor(Math.random() * tokens.length)];
  }

  private async once(op: Op): Promise<void> {
    const { baseUrl, boundMs } = this.options;
    const auth = { authorization: `Bearer ${this.token()}` };
    const json = { 'content-type': 'application/json' };
    const requests: Record<Op, [string, RequestInit]> = {
      me: ['/auth/me', { headers: auth }],
      patch: [
        '/sessions/current',
        {
          method: 'PATCH',
          headers: { ...auth, ...json },
          body: JSON.stringify({ data: { load: ++this.counter } }),
        },
      ],
      list: ['/sessions', { headers: auth }],
      login: [
        '/auth/login',
        {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ userId: 'bob', password: 'bob-demo-pass' }),
        },
      ],
      health: ['/health', {}],
      ping: ['/ping', {}],
    };
    const [path, init] = requests[op];
    const started = Date.now();
    let status: number;
    let text: string;
    try {
      const response = await fetch(`${baseUrl}${path}`, {
        ...init,
        signal: AbortSignal.timeout(boundMs * 2),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      this.requests++;
      this.problems.push(`${op}: no answer (${(error as Error).message})`);
      return;
    }
    const ms = Date.now() - started;
    this.requests++;
    this.slowestMs = Math.max(this.slowestMs, ms);
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    const problem = this.check(op, status, text, ms);
    if (problem) this.problems.push(`${op} → ${status} in ${ms} ms: ${problem}`);
  }

  private check(op: Op, status: number, text: string, ms: number): string | null {
    if (ms > this.options.boundMs) return `slower than ${this.options.boundMs} ms`;
    if (op === 'ping') return status === 200 ? null : '/ping must not depend on Redis';
    // After a restart that lost the data, a session can vanish between the guard's validation and
    // the update: "not found" is then the truthful answer.
    if (status === 404 && op === 'patch' && this.options.allow401) return null;
    if (!ALLOWED_STATUSES.has(status)) return `status outside ${[...ALLOWED_STATUSES].join('/')}`;
    if (status === 401 && !this.options.allow401) return 'a live session was rejected';
    if (status !== 503) return null;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return `503 without a JSON body: ${text.slice(0, 200)}`;
    }
    if (op === 'health')
      return body.status === 'error' ? null : `health body ${text.slice(0, 200)}`;
    return body.statusCode === 503 &&
      typeof body.message === 'string' &&
      body.error === 'Service Unavailable'
      ? null
      : `503 body not { statusCode: 503, message, error }: ${text.slice(0, 200)}`;
  }
}
