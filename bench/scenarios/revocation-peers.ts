/** Revocation checks of the peers (no cache): connect-redis and the seed recipe. */
import { Redis } from 'ioredis';
import { performance } from 'node:perf_hooks';
import { SeedCache } from '../peers/seed-cache';
import { SessionService as SeedSessionService } from '../peers/seed-session.service';
import { settings } from '../support/config';
import { type Latencies, latencies } from '../support/latency';

export interface PeerOps {
  create(i: number): Promise<string>;
  revoke(id: string): Promise<unknown>;
  accepts(id: string): Promise<boolean>;
}

/** Instance A revokes; B and C (own connections) ask again at once: time to their rejection. */
export async function peerRevocation(
  url: string,
  make: (redis: Redis) => PeerOps,
): Promise<{ rejection: Latencies }> {
  const clients = [new Redis(url), new Redis(url), new Redis(url)];
  const [a, b, c] = clients.map(make);
  try {
    const delays: number[] = [];
    for (let i = 0; i < settings.revocations; i++) {
      const id = await a.create(i);
      if (!(await b.accepts(id)) || !(await c.accepts(id))) throw new Error('peer lost a session');
      await a.revoke(id);
      const returnedAt = performance.now();
      await Promise.all(
        [b, c].map(async (other) => {
          if (await other.accepts(id)) throw new Error('peer accepted a deleted session');
          delays.push(performance.now() - returnedAt);
        }),
      );
    }
    return { rejection: latencies(delays) };
  } finally {
    clients.forEach((client) => client.disconnect());
  }
}

/** The seed's destroyAllForUser: its user index is never written, so nothing is revoked. */
export async function seedRevokeAll(url: string): Promise<string> {
  const clients = [new Redis(url), new Redis(url), new Redis(url)];
  const [a, b, c] = clients.map((redis) => new SeedSessionService(new SeedCache(redis)));
  try {
    const n = Math.min(settings.revocations, 50);
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push(await a.create('victim', { roles: ['user'] }));
    const reported = await a.destroyAllForUser('victim');
    let accepted = 0;
    for (const other of [b, c]) for (const id of ids) if (await other.get(id)) accepted++;
    return (
      `seed recipe: destroyAllForUser('victim') with ${n} live sessions returned ${reported}; ` +
      `afterwards ${accepted} of ${2 * n} validations on two other instances still accepted them ` +
      '(nothing ever writes user:sessions:<userId>)'
    );
  } finally {
    clients.forEach((client) => client.disconnect());
  }
}
