import { AppProcess } from '../support/app-process';
import { eventually } from '../support/eventually';
import { RedisServerProcess } from '../support/redis-server-process';
import { sleep } from '../support/sleep';
import { uniquePrefix } from '../support/test-redis';

jest.setTimeout(120_000);

/**
 * /health/live and /health/ready of both apps, as real processes on a private Redis each:
 * normal → both 200; Redis gone → ready 503 with the reason, live still 200; SIGTERM → ready
 * (and live) 503 "shutting down" while the process drains, until it exits. /health is unchanged.
 */
interface Probe {
  status: number;
  body: { status?: string; reason?: string; checks?: Record<string, string> };
}

async function probe(proc: AppProcess, path: string): Promise<Probe | 'refused'> {
  try {
    const response = await fetch(`http://127.0.0.1:${proc.port}${path}`);
    return { status: response.status, body: (await response.json()) as Probe['body'] };
  } catch {
    return 'refused';
  }
}

const status = (answer: Probe | 'refused') => (answer === 'refused' ? answer : answer.status);

/** `200 ×1 at 0 ms, 503 ×40 from 31 to 1011 ms, …`: a long series of answers, readable. */
function runs(series: { atMs: number; value: string }[]): string {
  const groups: { value: string; count: number; from: number; to: number }[] = [];
  for (const { atMs, value } of series) {
    const last = groups.at(-1);
    if (last?.value === value) {
      last.count++;
      last.to = atMs;
    } else groups.push({ value, count: 1, from: atMs, to: atMs });
  }
  return groups.map((g) => `${g.value} ×${g.count} from ${g.from} to ${g.to} ms`).join(', ');
}

const SHUTDOWN_TIMEOUT_MS = 6000;

async function startApp(app: 'api' | 'worker', redis: RedisServerProcess, extra = {}) {
  return AppProcess.start(app, `probes-${app}`, {
    REDIS_URL: redis.url,
    SESSION_PREFIX: uniquePrefix(`probes-${app}`),
    SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    WORKER_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    ...extra,
  });
}

describe.each(['api', 'worker'] as const)('%s health probes', (app) => {
  let redis: RedisServerProcess;
  let proc: AppProcess | undefined;

  beforeEach(async () => {
    redis = await RedisServerProcess.start();
  });

  afterEach(async () => {
    await proc?.stop('SIGKILL');
    proc = undefined;
    await redis.stop();
  });

  it('answers 200 on live and ready when all is well, and keeps /health', async () => {
    proc = await startApp(app, redis);
    const ready = await eventually(
      () => probe(proc!, '/health/ready'),
      (answer) => status(answer) === 200,
    );
    const live = await probe(proc, '/health/live');
    console.log(`${app} ready: ${JSON.stringify(ready)}; live: ${JSON.stringify(live)}`);
    expect(live).toEqual({ status: 200, body: expect.objectContaining({ status: 'ok' }) });
    expect(ready).toEqual({ status: 200, body: expect.objectContaining({ status: 'ok' }) });
    const checks = Object.keys((ready as Probe).body.checks ?? {});
    expect(checks).toEqual(
      app === 'api'
        ? ['shutdown', 'redis', 'invalidations', 'deploymentSettings']
        : ['shutdown', 'redis', 'deploymentSettings', 'consumer'],
    );
    expect(await proc.healthy()).toBe(true);
  });

  it('answers ready 503 with the reason while Redis is gone, and live 200', async () => {
    proc = await startApp(app, redis);
    await eventually(
      () => probe(proc!, '/health/ready'),
      (answer) => status(answer) === 200,
    );
    await redis.kill();
    const ready = await eventually(
      () => probe(proc!, '/health/ready'),
      (answer) => status(answer) === 503,
    );
    const live = await probe(proc, '/health/live');
    console.log(`${app} with Redis gone, ready: ${JSON.stringify(ready)}; live: ${status(live)}`);
    expect(ready).toEqual({
      status: 503,
      body: expect.objectContaining({ status: 'error', reason: 'Redis does not answer' }),
    });
    expect((ready as Probe).body.checks?.redis).toBe('down');
    expect(status(live)).toBe(200);
  });

  it('answers ready 503 "shutting down" from SIGTERM on, while it drains', async () => {
    // The api keeps serving SHUTDOWN_DELAY_MS after the signal; the worker drains its consumer
    // before closing HTTP, which with a frozen Redis takes a while (its QUIT is not answered).
    proc = await startApp(app, redis, app === 'api' ? { SHUTDOWN_DELAY_MS: '2000' } : {});
    await eventually(
      () => probe(proc!, '/health/ready'),
      (answer) => status(answer) === 200,
    );
    if (app === 'worker') redis.freeze();
    try {
      const started = Date.now();
      const exited = proc.stop('SIGTERM', SHUTDOWN_TIMEOUT_MS + 5000);
      const answers: { atMs: number; ready: Probe | 'refused'; live: Probe | 'refused' }[] = [];
      // A probe every 20 ms, each on its own: one held up by the frozen Redis (before the
      // signal is handled) must not hide a short drain from the next ones.
      const probes: Promise<void>[] = [];
      while (proc.alive) {
        const atMs = Date.now() - started;
        probes.push(
          Promise.all([probe(proc, '/health/ready'), probe(proc, '/health/live')]).then(
            ([ready, live]) => void answers.push({ atMs, ready, live }),
          ),
        );
        await sleep(20);
      }
      await Promise.all(probes);
      answers.sort((a, b) => a.atMs - b.atMs);
      await exited;
      // 200 or another 503 (the frozen Redis) until the signal is handled, then "shutting
      // down", then refused.
      const phase = (a: Probe | 'refused') =>
        a === 'refused'
          ? 'refused'
          : a.body.reason === 'shutting down'
            ? 'stopping'
            : a.status === 200
              ? 'ready'
              : 'other';
      const phases = answers.map((a) => phase(a.ready));
      const summary = runs(answers.map((a) => ({ atMs: a.atMs, value: phase(a.ready) })));
      console.log(`${app} after SIGTERM (exited in ${Date.now() - started} ms): ${summary}`);
      // A request can beat the signal; it does say it is shutting down while it still answers,
      // and no probe sent after that says anything else (refused once it stops listening).
      const firstStopping = phases.indexOf('stopping');
      expect(firstStopping).toBeGreaterThanOrEqual(0);
      expect(phases.slice(firstStopping).filter((p) => p === 'ready' || p === 'other')).toEqual([]);
      for (const { ready, live } of answers.filter((a) => phase(a.ready) === 'stopping')) {
        expect(ready).toEqual({
          status: 503,
          body: { status: 'error', reason: 'shutting down', checks: { shutdown: 'down' } },
        });
        if (live !== 'refused') expect(live).toMatchObject({ status: 503 });
      }
    } finally {
      if (app === 'worker') redis.thaw();
    }
  });
});
