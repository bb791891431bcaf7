/**
 * 4. Redis memory per live session: INFO memory used_memory before and after creating N sessions,
 * each store in its own fresh redis-server. Ours includes the event stream entries and, with a
 * worker process running until it has applied every event, the per-user and expiry indexes.
 */
import { Redis } from 'ioredis';
import type { SessionKeys } from '@app/session';
import { ConnectRedisPeer } from '../peers/connect-redis-store';
import { SeedCache } from '../peers/seed-cache';
import { SessionService as SeedSessionService } from '../peers/seed-session.service';
import { AppProcess } from '../../test/support/app-process';
import { settings, userOf } from '../support/config';
import { count } from '../support/format';
import { type KeyMemory, memoryByKind } from '../support/key-memory';
import { ourSessions } from '../support/our-sessions';
import { runAll } from '../support/rate';
import { usedMemory, withPrivateRedis } from '../support/redis';
import { Section } from '../support/report';
import { drained, groupsReady } from '../support/worker-streams';

const PARALLEL = 64;

interface Footprint {
  perSession: number;
  breakdown: KeyMemory[];
}

async function footprint(
  url: string,
  create: (i: number) => Promise<unknown>,
  settle: () => Promise<void> = async () => undefined,
  keys?: SessionKeys,
): Promise<Footprint> {
  const admin = new Redis(url);
  try {
    const before = await usedMemory(admin);
    await runAll(settings.memorySessions, PARALLEL, create);
    await settle();
    const after = await usedMemory(admin);
    return {
      perSession: (after - before) / settings.memorySessions,
      breakdown: await memoryByKind(admin, keys),
    };
  } finally {
    admin.disconnect();
  }
}

async function ours(): Promise<Footprint> {
  return withPrivateRedis(async (url) => {
    const env = {
      REDIS_URL: url,
      SESSION_PREFIX: 'sess',
      SESSION_SWEEP_INTERVAL_SECONDS: '3600',
      LOG_LEVEL: 'warn',
    };
    const worker = await AppProcess.start('worker', 'bench-memory-worker', env);
    const sessions = await ourSessions(url, { cache: false, pipelining: true });
    const admin = new Redis(url);
    try {
      const streams = sessions.service.keys.allEventStreams();
      await groupsReady(admin, streams);
      return await footprint(
        url,
        (i) => sessions.service.create(userOf(i), { roles: ['user'] }),
        () => drained(admin, streams),
        sessions.service.keys,
      );
    } finally {
      admin.disconnect();
      await sessions.close();
      await worker.stop();
    }
  });
}

function describeBreakdown(name: string, breakdown: KeyMemory[]): string {
  const n = settings.memorySessions;
  const parts = breakdown.map(
    (k) => `${k.kind} ${count(k.bytes / n)} B/session (${count(k.keys)} keys)`,
  );
  return `MEMORY USAGE by key, ${name}: ${parts.join(', ')}`;
}

export async function runMemory(): Promise<Section> {
  const n = settings.memorySessions;
  const section = new Section(
    '4. Redis memory per live session',
    `used_memory delta after creating ${count(n)} sessions (${count(Math.min(n, 25_000))} users), ` +
      'each store in its own fresh redis-server; ours with a worker process running until every ' +
      'event is applied (session hashes + event stream entries + per-user and expiry indexes).',
  );
  const connect = await withPrivateRedis(async (url) => {
    const redis = new Redis(url, { enableAutoPipelining: true });
    const peer = new ConnectRedisPeer(redis);
    try {
      return await footprint(url, (i) => peer.create(userOf(i)));
    } finally {
      redis.disconnect();
    }
  });
  const seed = await withPrivateRedis(async (url) => {
    const redis = new Redis(url, { enableAutoPipelining: true });
    const seedService = new SeedSessionService(new SeedCache(redis));
    try {
      return await footprint(url, (i) => seedService.create(userOf(i), { roles: ['user'] }));
    } finally {
      redis.disconnect();
    }
  });
  const our = await ours();

  const peer = { label: 'connect-redis', value: connect.perSession };
  section.figure({
    label: 'ours (state + event log + indexes)',
    value: our.perSession,
    unit: 'B/session',
    baseline: peer,
  });
  section.figure({
    label: 'seed recipe',
    value: seed.perSession,
    unit: 'B/session',
    baseline: peer,
  });
  section.figure({ label: 'connect-redis', value: connect.perSession, unit: 'B/session' });
  const ratio = our.perSession / connect.perSession;
  section.target({
    name: 'memory per session vs connect-redis, event log and indexes included',
    ratio,
    goal: '≤ 2×',
    pass: ratio <= 2,
  });
  const bytesOf = (kinds: string[]): number =>
    our.breakdown.filter((k) => kinds.includes(k.kind)).reduce((sum, k) => sum + k.bytes, 0) / n;
  const peerKeys = connect.breakdown.reduce((sum, k) => sum + k.bytes, 0) / n;
  const steps = [
    ['session state alone', ['session hashes']],
    ['+ event log', ['session hashes', 'event streams']],
    ['+ per-user indexes', ['session hashes', 'event streams', 'per-user indexes']],
    ['+ expiry index', ['session hashes', 'event streams', 'per-user indexes', 'expiry indexes']],
  ] as const;
  section.note(
    `finding: MEMORY USAGE per session, ours vs connect-redis's keys (${count(peerKeys)} B): ` +
      steps
        .map(([label, kinds]) => `${label} ${(bytesOf([...kinds]) / peerKeys).toFixed(2)}×`)
        .join(', '),
  );
  section.note(describeBreakdown('ours', our.breakdown));
  section.note(describeBreakdown('connect-redis', connect.breakdown));
  section.note(describeBreakdown('seed', seed.breakdown));
  return section;
}
