import { createSessionFixture, type SessionFixture } from '../session/session-fixture';
import { AppProcess } from '../support/app-process';
import { runDeadLettersCommand } from '../support/dead-letters-command';
import { eventually } from '../support/eventually';
import { testRedisUrl } from '../support/test-redis';
import { groupBacklog } from './group-backlog';

jest.setTimeout(120_000);

interface Health {
  status: string;
  details: {
    deadLetters: { count: number | null };
    stats: { failed: number; deadLettered: number; deadLetteredByReason: Record<string, number> };
  };
}

/** Events a newer release writes, in a rolling deploy, and the old worker cannot read. */
describe('Events from a newer release (worker process)', () => {
  let fx: SessionFixture;
  let worker: AppProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    fx = await createSessionFixture('worker-newer');
    env = {
      REDIS_URL: testRedisUrl(),
      SESSION_PREFIX: fx.prefix,
      WORKER_MAX_DELIVERIES: '5',
      SESSION_SWEEP_INTERVAL_SECONDS: '3600',
    };
    worker = await AppProcess.start('worker', 'newer-w1', env);
  });
  afterAll(async () => {
    await worker.stop();
    await fx.close();
  });

  const health = async (): Promise<{ code: number; body: Health }> => {
    const response = await fetch(`http://127.0.0.1:${worker.port}/health`);
    return { code: response.status, body: (await response.json()) as Health };
  };
  const deadLetters = async () => {
    const all: Record<string, string>[] = [];
    for (const stream of fx.service.keys.allEventStreams()) {
      for (const [, fields] of await fx.redis.xrange(`${stream}:dead`, '-', '+')) {
        const record: Record<string, string> = {};
        for (let i = 0; i < fields.length; i += 2) record[fields[i]] = fields[i + 1];
        all.push(record);
      }
    }
    return all;
  };

  it('dead-letters a newer schema and an unknown type at once, without retries, while other users are indexed', async () => {
    const keys = fx.service.keys;
    for (let i = 0; i < 64; i++) {
      const userId = `future-${i}`;
      const partition = keys.partitionOf(userId);
      await fx.redis.xadd(
        keys.events(partition),
        '*',
        'pattern',
        'session.created',
        'data',
        JSON.stringify({ v: 3, type: 'session.created', userId, sessionId: `${partition}-f${i}` }),
      );
    }
    const stranger = keys.partitionOf('stranger');
    await fx.redis.xadd(
      keys.events(stranger),
      '*',
      'pattern',
      'session.transferred',
      'data',
      JSON.stringify({ v: 1, type: 'session.transferred', userId: 'stranger', at: Date.now() }),
    );
    const started = Date.now();
    const created = await fx.service.create('alice');
    await eventually(
      () => fx.redis.zscore(keys.userSessions('alice'), created.sessionId),
      (score) => score !== null,
      { timeoutMs: 20_000 },
    );
    console.log(
      `newer-events: alice indexed ${Date.now() - started} ms after 65 unreadable events`,
    );

    const letters = await eventually(deadLetters, (all) => all.length === 65, {
      timeoutMs: 20_000,
    });
    const permanent = letters.filter((l) => l.reason === 'permanent');
    expect(permanent).toHaveLength(64);
    expect(permanent.every((l) => l.deliveryCount === '1')).toBe(true);
    expect(permanent[0].error).toMatch(/UnsupportedEventError: Unsupported schema version 3/);
    const unhandled = letters.filter((l) => l.reason === 'unhandled');
    expect(unhandled).toHaveLength(1);
    expect(unhandled[0].error).toContain('session.transferred');
    await eventually(
      () => groupBacklog(fx),
      (backlog) => backlog.pending === 0 && backlog.lag === 0,
    );

    // Each unreadable event ran once: no retry held a slot or the user's order.
    const { code, body } = await health();
    expect(code).toBe(200);
    expect(body.status).toBe('degraded');
    expect(body.details.deadLetters.count).toBe(65);
    expect(body.details.stats.failed).toBe(64);
    expect(body.details.stats.deadLetteredByReason).toMatchObject({ permanent: 64, unhandled: 1 });
    const metrics = await worker.metrics();
    expect(metrics).toMatch(/session_worker_dead_lettered_total\{reason="permanent"\} 64/);
    expect(metrics).toMatch(/session_worker_dead_lettered_total\{reason="unhandled"\} 1/);
    expect(metrics).toMatch(/session_worker_handler_failures_total 64/);
  });

  it('lists dead letters and replays them with worker:dead-letters, after a fix', async () => {
    const keys = fx.service.keys;
    // A session whose created event an earlier, buggy release dead-lettered: not indexed.
    const carol = await fx.service.create('carol');
    const partition = keys.partitionOf('carol');
    await eventually(
      () => fx.redis.zscore(keys.userSessions('carol'), carol.sessionId),
      (score) => score !== null,
    );
    const [[originalId, fields]] = (await fx.redis.xrange(keys.events(partition), '-', '+')).filter(
      ([, f]) => f.includes('session.created') && f.some((v) => v.includes(carol.sessionId)),
    );
    await fx.redis.del(keys.userSessions('carol'));
    await fx.redis.zrem(keys.expiryIndex(partition), `${carol.sessionId}|carol`);
    const field = (name: string) => fields[fields.indexOf(name) + 1];
    await fx.redis.xadd(
      `${keys.events(partition)}:dead`,
      '*',
      'pattern',
      field('pattern'),
      'data',
      field('data'),
      'error',
      'Error: a bug since fixed',
      'reason',
      'failed',
      'deliveryCount',
      '5',
      'originalStream',
      keys.events(partition),
      'originalId',
      originalId,
      'group',
      'session-projections',
      'consumer',
      'old',
      'deadLetteredAt',
      String(Date.now()),
    );

    const listed = await runDeadLettersCommand(env, ['list', '--reason', 'failed']);
    expect(listed.code).toBe(0);
    expect(listed.report).toMatchObject({ action: 'list', total: 66 });
    const shown = listed.report!.letters as { partition: number; originalId: string }[];
    expect(shown).toEqual([expect.objectContaining({ partition, originalId, reason: 'failed' })]);

    const replayed = await runDeadLettersCommand(env, ['replay', '--reason', 'failed']);
    expect(replayed.code).toBe(0);
    expect(replayed.report).toMatchObject({ replayedCount: 1 });
    await eventually(
      () => fx.redis.zscore(keys.userSessions('carol'), carol.sessionId),
      (score) => score !== null,
    );
    expect(
      await fx.redis.zscore(keys.expiryIndex(partition), `${carol.sessionId}|carol`),
    ).not.toBeNull();

    // Replaying what this release still cannot read loses nothing: it comes back.
    const again = await runDeadLettersCommand(env, ['replay', '--pattern', 'session.transferred']);
    expect(again.report).toMatchObject({ replayedCount: 1 });
    await eventually(
      () => worker.metrics(),
      (text) => /session_worker_dead_lettered_total\{reason="unhandled"\} 2/.test(text),
    );
    expect((await deadLetters()).length).toBe(65);
    expect(
      (await deadLetters()).find((l) => l.pattern === 'session.transferred')?.originalId,
    ).toMatch(/^\d+-\d+$/);
  });

  it('dead-letters at once an event naming a session id of another deployment', async () => {
    const keys = fx.service.keys;
    const before = (await deadLetters()).length;
    const partition = keys.partitionOf('mallory');
    await fx.redis.xadd(
      keys.events(partition),
      '*',
      'pattern',
      'session.revoked',
      'data',
      JSON.stringify({
        v: 1,
        type: 'session.revoked',
        at: Date.now(),
        userId: 'mallory',
        sessionId: 'not-a-session-id',
        reason: 'logout',
      }),
    );
    const letters = await eventually(deadLetters, (all) => all.length === before + 1);
    const letter = letters.find((l) => l.data.includes('not-a-session-id'));
    expect(letter).toMatchObject({ reason: 'permanent', deliveryCount: '1' });
    expect(letter?.error).toContain('Not a session id of this deployment');
  });

  it('refuses a bad command line with its usage, exit code 2', async () => {
    const run = await runDeadLettersCommand(env, ['replay', '--partition', '99999']);
    expect(run.code).toBe(2);
    expect(run.output).toMatch(/--partition must be a whole number/);
    expect(run.output).toMatch(/usage: worker:dead-letters/);
  });
});
