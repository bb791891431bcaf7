/**
 * 1. Validation at library level, one core: one operation in flight, each variant against its own
 * fresh redis-server. Ours with an L1 hit and with L1 off, the seed recipe's `get`, connect-redis
 * `get` + `touch` (what express-session does per request), and a raw ioredis GET as the floor.
 * Variants are measured in interleaved rounds (median kept), so a noisy neighbour hits all alike.
 */
import { Redis } from 'ioredis';
import { ConnectRedisPeer } from '../peers/connect-redis-store';
import { SeedCache } from '../peers/seed-cache';
import { SessionService as SeedSessionService } from '../peers/seed-session.service';
import { settings } from '../support/config';
import { type Contender, contender, median } from '../support/contenders';
import { ourSessions } from '../support/our-sessions';
import { sequentialRate } from '../support/rate';
import { Section } from '../support/report';

type Op = () => Promise<unknown>;

async function withClient(url: string, setup: (redis: Redis) => Promise<Op>) {
  const redis = new Redis(url);
  return { value: await setup(redis), close: async () => redis.disconnect() };
}

async function prepareAll(): Promise<(Contender & { value: Op })[]> {
  return [
    await contender('raw ioredis GET (floor)', (url) =>
      withClient(url, async (redis) => {
        await redis.set('raw', JSON.stringify({ userId: 'alice', roles: ['user'] }));
        return () => redis.get('raw');
      }),
    ),
    await contender('connect-redis get + touch', (url) =>
      withClient(url, async (redis) => {
        const peer = new ConnectRedisPeer(redis);
        const sid = await peer.create('alice');
        return () => peer.load(sid);
      }),
    ),
    await contender('ours, L1 hit (validate)', async (url) => {
      const ours = await ourSessions(url, { cache: true });
      const { token } = await ours.service.create('alice', { roles: ['user'] });
      return { value: () => ours.service.validate(token), close: () => ours.close() };
    }),
    await contender('ours, L1 off (one Lua call)', async (url) => {
      const ours = await ourSessions(url, { cache: false });
      const { token } = await ours.service.create('alice', { roles: ['user'] });
      return { value: () => ours.service.validate(token), close: () => ours.close() };
    }),
    await contender('seed recipe get (GET + SET)', (url) =>
      withClient(url, async (redis) => {
        const seed = new SeedSessionService(new SeedCache(redis));
        const id = await seed.create('alice', { roles: ['user'] });
        return () => seed.get(id);
      }),
    ),
  ];
}

export async function runValidation(): Promise<Section> {
  const section = new Section(
    '1. Validation, library level, one core',
    `One call in flight on one Node process; each variant against its own fresh redis-server, ` +
      `warmed up with ${settings.warmupCalls} calls, then ${settings.rounds} interleaved round(s) of ` +
      `${settings.validationMs} ms per variant; the median round is kept.`,
  );
  const contenders = await prepareAll();
  try {
    for (const c of contenders) await sequentialRate(c.value, 0, settings.warmupCalls);
    const rounds = new Map<string, number[]>(contenders.map((c) => [c.label, []]));
    for (let r = 0; r < settings.rounds; r++)
      for (const c of contenders)
        rounds.get(c.label)?.push(await sequentialRate(c.value, settings.validationMs, 0));
    const rate = (i: number): number => median(rounds.get(contenders[i].label) ?? [], (x) => x);
    const [raw, connect, l1, noL1, seed] = contenders.map((_, i) => rate(i));

    const vsConnect = { label: 'connect-redis get+touch', value: connect };
    section.figure({ label: contenders[0].label, value: raw, unit: 'ops/s' });
    section.figure({
      label: contenders[1].label,
      value: connect,
      unit: 'ops/s',
      baseline: { label: 'raw GET', value: raw },
    });
    section.figure({ label: contenders[2].label, value: l1, unit: 'ops/s', baseline: vsConnect });
    section.figure({ label: contenders[3].label, value: noL1, unit: 'ops/s', baseline: vsConnect });
    section.figure({ label: contenders[4].label, value: seed, unit: 'ops/s', baseline: vsConnect });
    section.target({
      name: 'L1-hit validation vs connect-redis get (+touch)',
      ratio: l1 / connect,
      goal: '≥ 10×',
      pass: l1 / connect >= 10,
    });
    for (const c of contenders)
      section.note(`Redis time per command, ${c.label}: ${await c.redisTime(1000)}`);
  } finally {
    for (const c of contenders) await c.close();
  }
  return section;
}
