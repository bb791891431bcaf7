/**
 * The whole service while its Redis Cluster changes shape under it (real processes): two api
 * instances and a worker on 3 masters with a replica each; 12 users keep validating, updating,
 * logging in and out, and listing their sessions through both instances while
 *   1. the slots of the busiest partitions (and the sweeper's queue) move to other masters,
 *   2. the master of the busiest partitions hands over to its replica (CLUSTER FAILOVER),
 *   3. that master is killed and its replica takes over.
 *
 * After each phase, every acknowledged fact is checked: every live session validates on both
 * instances with the data last written, a logout on one instance is refused on the other within
 * milliseconds, the worker has consumed every event and its indexes equal a replay of the streams,
 * and no process crashed. Only the crash may answer 503 (while the slot has no master), and only
 * what was acknowledged in the few milliseconds between the replica's last catch-up and the kill
 * may be lost with the master (Redis replicates asynchronously): the test prints how much that was.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import { resolveSessionOptions, SessionKeys, SessionStore } from '@app/session';
import { keySlot } from '@app/streams';
import { hashPasswordSync } from '../../apps/api/src/users/password-hash';
import { checkProjections } from '../../apps/worker/src/rebuild/projection-check';
import { PROJECTIONS_GROUP } from '../../apps/worker/src/worker.constants';
import { AppProcess } from '../support/app-process';
import { eventually, waitUntil } from '../support/eventually';
import {
  masterAndReplicaOf,
  masterOf,
  moveSlot,
  onNode,
  replicaCaughtUp,
  waitForSlotOwner,
} from '../support/redis-cluster-admin';
import { RedisClusterProcess } from '../support/redis-cluster-process';
import { PhaseRecord, runActors, SessionActor, type TrackedSession } from './session-actors';
import { sleep } from '../support/sleep';

jest.setTimeout(240_000);

const PREFIX = 'reshard';
const PARTITIONS = 16;
const USERS = 12;
/** How long each phase's load runs around its cluster change. */
const LOAD_MARGIN_MS = 800;

describe('session service while the cluster reshards and fails over (2 api + 1 worker processes)', () => {
  let cluster: RedisClusterProcess;
  let usersDir: string;
  let apps: AppProcess[] = [];
  let urls: string[];
  let redis: Cluster;
  let actors: SessionActor[];
  const keys = new SessionKeys(PREFIX, PARTITIONS);
  const killedPorts = new Set<number>();
  const report: string[] = [];

  beforeAll(async () => {
    cluster = await RedisClusterProcess.start({ masters: 3, replicas: 1 });
    const users = Array.from({ length: USERS }, (_, i) => ({
      userId: `user-${i}`,
      password: `password-of-user-${i}`,
    }));
    usersDir = mkdtempSync(join(tmpdir(), 'reshard-users-'));
    const usersFile = join(usersDir, 'users.json');
    // Cheap scrypt parameters: logins are part of the load, password hashing is not under test.
    const params = { N: 1024, r: 8, p: 1 };
    writeFileSync(
      usersFile,
      JSON.stringify(
        users.map((u) => ({
          userId: u.userId,
          passwordHash: hashPasswordSync(u.password, params),
          roles: ['user'],
        })),
      ),
    );
    const env = {
      REDIS_CLUSTER_NODES: cluster.nodeList,
      SESSION_PREFIX: PREFIX,
      SESSION_STREAM_PARTITIONS: String(PARTITIONS),
      SESSION_SWEEP_INTERVAL_SECONDS: '1',
      USERS_FILE: usersFile,
      // The limiter runs (its Redis calls are part of every login) but never trips on the load.
      LOGIN_RATE_LIMIT: '1000000',
      SESSION_COOKIE_SECURE: 'false',
      LOG_LEVEL: 'error',
    };
    apps = await Promise.all([
      AppProcess.start('api', 'reshard-api-a', env),
      AppProcess.start('api', 'reshard-api-b', env),
      AppProcess.start('worker', 'reshard-worker', env),
    ]);
    urls = apps.slice(0, 2).map((api) => `http://127.0.0.1:${api.port}`);
    redis = new Cluster(cluster.nodes, { lazyConnect: true });
    redis.on('error', () => undefined); // a killed node is expected
    await redis.connect();
    actors = users.map((user) => new SessionActor(user, urls));
    // Two probes per user, one logged in through each instance: never logged out by the load.
    for (const actor of actors) {
      for (const url of urls) expect(await actor.login(url, true)).toBe(201);
    }
  });

  afterAll(async () => {
    // SHOW_APP_OUTPUT=1 prints what the processes logged (LOG_LEVEL=error), to debug a failure.
    if (process.env.SHOW_APP_OUTPUT) {
      for (const app of apps) console.log(`${app.name}:\n${app.output.slice(-6000)}`);
    }
    await Promise.all(apps.map((app) => app.stop()));
    redis?.disconnect();
    await cluster?.stop();
    if (usersDir) rmSync(usersDir, { recursive: true, force: true });
    if (report.length > 0) console.log(`cluster changes under load:\n  ${report.join('\n  ')}`);
  });

  /** Partitions in use, busiest (most users) first. */
  function busiestPartitions(): number[] {
    const users = new Map<number, number>();
    for (const actor of actors) {
      const p = keys.partitionOf(actor.user.userId);
      users.set(p, (users.get(p) ?? 0) + 1);
    }
    return [...users.entries()].sort((a, b) => b[1] - a[1]).map(([p]) => p);
  }

  const slotOfPartition = (partition: number) => keySlot(keys.events(partition));

  /** The partitions in use whose slot `port` serves. */
  async function partitionsServedBy(port: number): Promise<number[]> {
    const served: number[] = [];
    for (const p of busiestPartitions()) {
      if ((await masterOf(port, slotOfPartition(p))).port === port) served.push(p);
    }
    return served;
  }

  async function me(url: string, token: string): Promise<{ status: number; n: number }> {
    const response = await fetch(`${url}/auth/me`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await response.json()) as { data?: { n?: number } };
    return { status: response.status, n: body.data?.n ?? 0 };
  }

  /**
   * Every session the load left alive validates on both instances with its last acknowledged
   * data; returns how many were checked and how many (acknowledged inside the loss window) were
   * lost, which only a crash phase may have.
   */
  async function checkLiveSessions(
    record: PhaseRecord,
  ): Promise<{ checked: number; lostSessions: number; lostUpdates: number }> {
    let checked = 0;
    let lostSessions = 0;
    let lostUpdates = 0;
    const inWindow = (at: number) => at > record.lossWindowStart;
    for (const actor of actors) {
      for (const session of [...actor.live.values()]) {
        for (const url of urls) {
          // The other instance's cached copy trails a write by the propagation delay.
          const seen = await eventually(
            () => me(url, session.token),
            (r) => r.status !== 200 || r.n >= session.ackedN,
            { timeoutMs: 5_000 },
          ).catch(() => me(url, session.token));
          if (seen.status === 401 && inWindow(session.createdAt)) {
            lostSessions++;
            actor.live.delete(session.sessionId);
            break;
          }
          expect(describeSeen(session, seen)).toBe(describeSeen(session, { status: 200 }));
          if (seen.n < session.ackedN && inWindow(session.ackedAt)) {
            lostUpdates++;
            session.ackedN = seen.n;
          }
          expect(seen.n).toBeGreaterThanOrEqual(session.ackedN);
          expect(seen.n).toBeLessThanOrEqual(session.triedN);
        }
        checked++;
      }
    }
    return { checked, lostSessions, lostUpdates };
  }

  /** Waits until the worker's group has read and acknowledged every event of every partition. */
  async function workerCaughtUp(): Promise<void> {
    await eventually(
      async () => {
        const behind: string[] = [];
        for (let p = 0; p < PARTITIONS; p++) {
          const stream = keys.events(p);
          if ((await redis.exists(stream)) === 0) continue;
          const info = flatToObject(await redis.xinfo('STREAM', stream));
          const groups = ((await redis.xinfo('GROUPS', stream)) as unknown[][]).map(flatToObject);
          const group = groups.find((g) => g.name === PROJECTIONS_GROUP);
          if (
            !group ||
            Number(group.pending) !== 0 ||
            group['last-delivered-id'] !== info['last-generated-id']
          )
            behind.push(`p${p}`);
        }
        return behind;
      },
      (behind) => behind.length === 0,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  }

  /** Logs in through one instance, validates on the other, logs out on the first: ms to 401. */
  async function revocationDelayMs(actor: SessionActor, from: string, to: string): Promise<number> {
    expect(await actor.login(from)).toBe(201);
    const session = [...actor.live.values()].at(-1)!;
    expect((await me(to, session.token)).status).toBe(200); // now cached there
    const logout = await fetch(`${from}/auth/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${session.token}` },
    });
    expect(logout.status).toBe(204);
    actor.live.delete(session.sessionId);
    return waitUntil(async () => (await me(to, session.token)).status === 401, 5_000, 1);
  }

  /** Everything that must hold after a phase; returns a line for the report. */
  async function checkAfter(record: PhaseRecord, movedPartitions: number[]): Promise<string> {
    const { checked, lostSessions, lostUpdates } = await checkLiveSessions(record);
    // A logout through either instance reaches the other, for users of the moved partitions.
    const delays: number[] = [];
    const movedActors = actors.filter((a) =>
      movedPartitions.includes(keys.partitionOf(a.user.userId)),
    );
    for (const actor of movedActors) {
      delays.push(await revocationDelayMs(actor, urls[0], urls[1]));
      delays.push(await revocationDelayMs(actor, urls[1], urls[0]));
    }
    expect(Math.max(...delays)).toBeLessThan(1_000);

    await workerCaughtUp();
    // No event was given up on (a failed handler or ack during the change is retried, not lost).
    for (let p = 0; p < PARTITIONS; p++) expect(await redis.xlen(`${keys.events(p)}:dead`)).toBe(0);
    const store = new SessionStore(
      redis,
      resolveSessionOptions({
        redis: { client: redis },
        keyPrefix: PREFIX,
        streamPartitions: PARTITIONS,
      }),
    );
    const projections = await checkProjections(store);
    expect(projections.unreadableEvents).toBe(0);
    expect(projections.differences).toEqual([]);
    // The worker's index lists every session each user still has.
    for (const actor of actors) {
      const probe = [...actor.live.values()].find((s) => s.probe)!;
      const response = await fetch(`${urls[0]}/sessions`, {
        headers: { authorization: `Bearer ${probe.token}` },
      });
      expect(response.status).toBe(200);
      const listed = new Set(
        ((await response.json()) as { sessionId: string }[]).map((s) => s.sessionId),
      );
      const missing = [...actor.live.keys()].filter((id) => !listed.has(id));
      expect(missing).toEqual([]);
    }
    for (const app of apps) {
      expect(app.alive).toBe(true);
      await waitUntil(() => app.healthy(), 10_000, 50);
    }
    const sorted = [...delays].sort((a, b) => a - b);
    return (
      `${record.summary()}; after: ${checked} live sessions valid on both instances, ` +
      `${lostSessions} sessions and ${lostUpdates} updates lost, logout → 401 on the other ` +
      `instance in ${sorted[0]}–${sorted.at(-1)} ms (${delays.length} logouts), ` +
      `projections = replay of ${projections.events} events`
    );
  }

  /** Runs the load around `change`; fails on any answer the phase does not allow. */
  async function underLoad(record: PhaseRecord, change: () => Promise<void>): Promise<void> {
    const load = runActors(actors, record);
    try {
      await sleep(LOAD_MARGIN_MS);
      await change();
      await sleep(LOAD_MARGIN_MS);
    } finally {
      await load.stop();
    }
    expect(record.problems).toEqual([]);
    expect(record.requests).toBeGreaterThan(100);
  }

  it('moves the slots of the 4 busiest partitions and of the sweeper queue: no error answered, nothing lost', async () => {
    const partitions = busiestPartitions().slice(0, 4);
    const slots = [...partitions.map(slotOfPartition), keySlot(`{${PREFIX}:bull}:x`)];
    const record = new PhaseRecord('resharding', false);
    const moves: { slot: number; from: number; to: number; keys: number }[] = [];
    await underLoad(record, async () => {
      // Small batches with pauses: the load meets every slot half-moved (ASK, TRYAGAIN).
      for (const slot of slots)
        moves.push({ slot, ...(await moveSlot(cluster, slot, { batch: 4 })) });
    });
    for (const move of moves) {
      expect((await masterOf(cluster.servers[0].port, move.slot)).port).toBe(move.to);
    }
    // Every slot carried data while it moved (its stream, sessions, indexes, or the queue's
    // keys), so the load met it half-moved; how much depends on how fast the machine ran the load.
    expect(moves.filter((move) => move.keys === 0)).toEqual([]);
    expect(record.count(503)).toBe(0);
    const line = await checkAfter(record, partitions);
    report.push(
      `${line}; moved ${moves.length} slots (${moves.reduce((s, m) => s + m.keys, 0)} keys)`,
    );
  });

  it('hands the busiest partition’s master over to its replica (CLUSTER FAILOVER): no error answered, nothing lost', async () => {
    const partition = busiestPartitions()[0];
    const slot = slotOfPartition(partition);
    const { master, replica } = await masterAndReplicaOf(cluster, slot);
    const record = new PhaseRecord('coordinated fail-over', false);
    let tookMs = 0;
    await underLoad(record, async () => {
      const started = Date.now();
      await onNode(replica.port, (r) => r.cluster('FAILOVER'));
      await waitForSlotOwner(cluster, slot, replica.port);
      tookMs = Date.now() - started;
    });
    expect(record.count(503)).toBe(0);
    const handedOver = await partitionsServedBy(replica.port);
    expect(handedOver).toContain(partition);
    const line = await checkAfter(record, handedOver.slice(0, 3));
    report.push(`${line}; ${master.port} → ${replica.port} in ${tookMs} ms`);
  });

  it('kills that master: its replica takes over, 503 only meanwhile, nothing acknowledged before the last catch-up lost', async () => {
    const partition = busiestPartitions()[0];
    const slot = slotOfPartition(partition);
    const { master, replica } = await masterAndReplicaOf(cluster, slot);
    const affected = await partitionsServedBy(master.port);
    const record = new PhaseRecord('master crash', true);
    const probe = actors.find((a) => keys.partitionOf(a.user.userId) === partition)!;
    const probeSession = [...probe.live.values()].find((s) => s.probe)!;
    let failoverMs = 0;
    let recoveredMs = 0;
    await underLoad(record, async () => {
      await replicaCaughtUp(master, replica);
      record.lossWindowStart = Date.now();
      const killedAt = Date.now();
      await cluster.servers.find((s) => s.port === master.port)!.kill();
      killedPorts.add(master.port);
      await waitForSlotOwner(cluster, slot, replica.port, (port) => !killedPorts.has(port));
      failoverMs = Date.now() - killedAt;
      // Writes for the partition succeed again through both instances, on their own.
      for (const url of urls) {
        await waitUntil(
          async () => {
            const response = await fetch(`${url}/sessions/current`, {
              method: 'PATCH',
              headers: {
                authorization: `Bearer ${probeSession.token}`,
                'content-type': 'application/json',
              },
              body: JSON.stringify({ data: { recovered: true } }),
            });
            return response.status === 200;
          },
          30_000,
          20,
        );
      }
      recoveredMs = Date.now() - killedAt;
    });
    const line = await checkAfter(record, affected.slice(0, 3));
    // Sessions created before the replica's last catch-up all survived (checked above, where any
    // 401 outside the window fails); the window's losses are reported.
    report.push(
      `${line}; killed ${master.port}, ${replica.port} took over in ${failoverMs} ms, ` +
        `writes through both instances again after ${recoveredMs} ms; ` +
        `${affected.length} partitions affected; sessions lost in the loss window while loaded: ${record.lostInWindow.length}`,
    );
  });
});

function flatToObject(flat: unknown): Record<string, unknown> {
  const list = flat as unknown[];
  const object: Record<string, unknown> = {};
  for (let i = 0; i + 1 < list.length; i += 2) object[String(list[i])] = list[i + 1];
  return object;
}

function describeSeen(session: TrackedSession, seen: { status: number }): string {
  return `${session.probe ? 'probe ' : ''}session ${session.sessionId}: ${seen.status}`;
}
