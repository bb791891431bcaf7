import type { Redis } from 'ioredis';
import { sleep } from './format';

/** The worker's consumer group (apps/worker). */
export const PROJECTION_GROUP = 'session-projections';

/** Entries of `group` not yet acknowledged (pending + not yet delivered) over all streams. */
export async function backlogOf(redis: Redis, streams: string[], group: string): Promise<number> {
  let total = 0;
  for (const stream of streams) {
    if ((await redis.exists(stream)) === 0) continue;
    for (const raw of (await redis.xinfo('GROUPS', stream)) as unknown[][]) {
      const fields = new Map<unknown, unknown>();
      for (let i = 0; i + 1 < raw.length; i += 2) fields.set(raw[i], raw[i + 1]);
      if (fields.get('name') === group)
        total += Number(fields.get('pending')) + Number(fields.get('lag') ?? 0);
    }
  }
  return total;
}

/** Waits until the worker has applied every event (bounded). */
export async function drained(redis: Redis, streams: string[], timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await backlogOf(redis, streams, PROJECTION_GROUP)) > 0) {
    if (Date.now() > deadline) throw new Error(`worker backlog not drained in ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** Waits until the worker's consumer group exists on every stream. */
export async function groupsReady(redis: Redis, streams: string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (const stream of streams) {
    for (;;) {
      const exists = (await redis.exists(stream)) === 1;
      const groups = exists ? ((await redis.xinfo('GROUPS', stream)) as unknown[][]) : [];
      if (groups.some((g) => g.includes(PROJECTION_GROUP))) break;
      if (Date.now() > deadline) throw new Error(`no consumer group on ${stream}`);
      await sleep(50);
    }
  }
}
