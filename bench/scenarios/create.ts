/**
 * 3. Creates per second: ours (`SessionService.create`: state + event in one script) vs
 * connect-redis `set` (as express-session calls it at login, with a fresh 24-byte id) vs the seed's
 * `create`. One call in flight, and `createConcurrency` in flight; each variant in its own fresh
 * Redis, measured in interleaved rounds (median kept), with the CPU each side spends per create.
 */
import { Redis } from 'ioredis';
import { ConnectRedisPeer } from '../peers/connect-redis-store';
import { SeedCache } from '../peers/seed-cache';
import { SessionService as SeedSessionService } from '../peers/seed-session.service';
import { settings, userOf } from '../support/config';
import { type Contender, contender, median } from '../support/contenders';
import { formatShares } from '../support/cpu-profile';
import { ourSessions } from '../support/our-sessions';
import { concurrentRate, sequentialRate } from '../support/rate';
import { Section } from '../support/report';
import { profileThisProcess } from '../support/self-profile';

type Create = (i: number) => Promise<unknown>;

interface Run {
  rate: number;
  nodeCpuUs: number;
  redisCpuUs: number;
}

let serial = 0; // distinct users and ids across rounds

async function concurrentRun(c: Contender & { value: Create }): Promise<Run> {
  const cpu = process.cpuUsage();
  const redisCpu = await c.redisCpuSeconds();
  const started = serial;
  const rate = await concurrentRate(
    () => c.value(serial++),
    settings.createConcurrency,
    settings.createMs,
  );
  const created = serial - started;
  const used = process.cpuUsage(cpu);
  return {
    rate,
    nodeCpuUs: (used.user + used.system) / created,
    redisCpuUs: (((await c.redisCpuSeconds()) - redisCpu) * 1e6) / created,
  };
}

async function prepareAll(): Promise<(Contender & { value: Create })[]> {
  const client = (url: string, make: (redis: Redis) => Create) => {
    const redis = new Redis(url);
    return Promise.resolve({ value: make(redis), close: async () => redis.disconnect() });
  };
  return [
    await contender('connect-redis set', (url) =>
      client(url, (redis) => {
        const peer = new ConnectRedisPeer(redis);
        return (i) => peer.create(userOf(i));
      }),
    ),
    await contender('ours, SessionService.create', async (url) => {
      const ours = await ourSessions(url, { cache: true });
      return {
        value: (i) => ours.service.create(userOf(i), { roles: ['user'] }),
        close: () => ours.close(),
      };
    }),
    await contender('seed recipe create', (url) =>
      client(url, (redis) => {
        const seed = new SeedSessionService(new SeedCache(redis));
        return (i) => seed.create(userOf(i), { roles: ['user'] });
      }),
    ),
  ];
}

/** Where a create's cost goes, from this run's counters (INFO commandstats, CPU per create). */
async function costFinding(
  ours: Contender,
  connect: Contender,
  oursRun: Run,
  connectRun: Run,
  measured: number,
): Promise<string> {
  const stats = await ours.redisStats();
  const script = stats.find((s) => s.command === 'evalsha');
  const set = (await connect.redisStats()).find((s) => s.command === 'set');
  const inside = stats
    .filter((s) => s.command !== 'evalsha' && s.calls >= (script?.calls ?? 0))
    .reduce((sum, s) => sum + s.usecPerCall, 0);
  const total = (r: Run): number => r.nodeCpuUs + r.redisCpuUs;
  const x = (v: number): string => `${v.toFixed(2)}×`;
  return (
    `finding: per create, ours vs connect-redis: Node CPU ${x(oursRun.nodeCpuUs / connectRun.nodeCpuUs)}, ` +
    `redis-server CPU ${x(oursRun.redisCpuUs / connectRun.redisCpuUs)}, both ` +
    `${x(total(oursRun) / total(connectRun))} (measured creates/s: ${x(measured)}; client and redis-server share the two cores). ` +
    `EVALSHA ${script?.usecPerCall.toFixed(1) ?? '?'} µs/call = ` +
    `${x((script?.usecPerCall ?? NaN) / (set?.usecPerCall ?? NaN))} connect-redis's SET; the commands the ` +
    `script runs take ${inside.toFixed(1)} µs of it, the rest is the Lua script itself`
  );
}

export async function runCreate(): Promise<Section> {
  const c = settings.createConcurrency;
  const section = new Section(
    '3. Creates per second',
    `One Node process; each variant against its own fresh redis-server, warmed up, then ` +
      `${settings.rounds} interleaved round(s) of ${settings.createMs} ms with 1 call in flight and ` +
      `with ${c} in flight; the median round is kept. The same data for all (user id, roles ` +
      '["user"]; no user agent or IP).',
  );
  const contenders = await prepareAll();
  try {
    for (const x of contenders)
      await sequentialRate(() => x.value(serial++), 0, settings.warmupCalls);
    const single = new Map<string, number[]>();
    const concurrent = new Map<string, Run[]>();
    for (let r = 0; r < settings.rounds; r++) {
      for (const x of contenders) {
        const rate = await sequentialRate(() => x.value(serial++), settings.createMs, 0);
        single.set(x.label, [...(single.get(x.label) ?? []), rate]);
        concurrent.set(x.label, [...(concurrent.get(x.label) ?? []), await concurrentRun(x)]);
      }
    }
    const one = (x: Contender): number => median(single.get(x.label) ?? [], (v) => v);
    const many = (x: Contender): Run => median(concurrent.get(x.label) ?? [], (v) => v.rate);
    const [connect, ours, seed] = contenders;
    for (const x of contenders) {
      const isPeer = x === connect;
      const base = (value: number) => (isPeer ? undefined : { label: 'connect-redis set', value });
      section.figure({
        label: `${x.label}, 1 in flight`,
        value: one(x),
        unit: 'creates/s',
        baseline: base(one(connect)),
      });
      section.figure({
        label: `${x.label}, ${c} in flight`,
        value: many(x).rate,
        unit: 'creates/s',
        baseline: base(many(connect).rate),
      });
    }
    const ratio = many(ours).rate / many(connect).rate;
    section.target({
      name: `creates/s vs connect-redis set (${c} in flight)`,
      ratio,
      goal: '≥ 0.8×',
      pass: ratio >= 0.8,
      detail: `1 in flight: ${(one(ours) / one(connect)).toFixed(2)}×`,
    });
    for (const x of [connect, ours, seed]) {
      const run = many(x);
      section.note(
        `${x.label} (${c} in flight): Node CPU ${run.nodeCpuUs.toFixed(1)} µs/create, redis-server ` +
          `CPU ${run.redisCpuUs.toFixed(1)} µs/create; Redis time per command: ${await x.redisTime(1000)}`,
      );
    }
    section.note(await costFinding(ours, connect, many(ours), many(connect), ratio));
    if (ratio < 0.8 || process.env.BENCH_PROFILE === '1') {
      for (const x of [ours, connect]) {
        const summary = await profileThisProcess(() => concurrentRun(x));
        section.note(
          `CPU profile of this (client) process during ${x.label}, ${c} in flight: self time by ` +
            `package: ${formatShares(summary.byGroup)}; top functions: ${formatShares(summary.byFunction)}`,
        );
      }
    }
  } finally {
    for (const x of contenders) await x.close();
  }
  return section;
}
