import type { Cluster, Redis } from 'ioredis';
import { callOnNodeOf } from './redis-streams.cluster';
import { isRedisError } from './redis-streams.parser';
import type { ServerRuntime } from './redis-streams.runtime';

/** Backlog of one stream for the group. */
export interface RedisStreamsLag {
  stream: string;
  partition: number;
  /** Entries delivered to the group but not acknowledged (XPENDING summary). */
  pending: number;
  /**
   * Entries not yet delivered to the group: XINFO GROUPS `lag` (Redis 7+), else entries-added
   * minus the group's entries-read when both are known, else null.
   */
  lag: number | null;
  lastDeliveredId: string | null;
}

export interface RedisStreamsCapabilities {
  /** XACKDEL (Redis 8.2+). */
  xackdel: boolean;
}

/**
 * The consumer group on every stream: creates it (and re-creates it when Redis lost it), detects
 * the server's stream features, reports the backlog. Commands without a routable key go through
 * `callOnNodeOf` in cluster mode.
 */
export class ConsumerGroups {
  private capabilities: RedisStreamsCapabilities = { xackdel: false };
  private creating: Promise<void> | undefined;

  constructor(
    private readonly runtime: ServerRuntime,
    private readonly streams: readonly string[],
  ) {}

  getCapabilities(): RedisStreamsCapabilities {
    return { ...this.capabilities };
  }

  async detectCapabilities(): Promise<void> {
    try {
      const info = await this.runtime.commands().call('COMMAND', 'INFO', 'XACKDEL');
      this.capabilities = { xackdel: Array.isArray(info) && Array.isArray(info[0]) };
    } catch {
      this.capabilities = { xackdel: false };
    }
  }

  /** Runs `command` on the node of `key`: directly, or behind EXISTS in cluster mode. */
  async call(key: string, command: [string, ...(string | number)[]]): Promise<unknown> {
    const commands = this.runtime.commands();
    if (this.runtime.clustered) return (await callOnNodeOf(commands, key, command))[0];
    return commands.call(...command);
  }

  /**
   * XGROUP CREATE ... MKSTREAM on every stream; an existing group (BUSYGROUP) is fine.
   * Concurrent callers (several read loops meeting NOGROUP) share one attempt.
   */
  ensure(): Promise<void> {
    const { group, startId } = this.runtime.config;
    this.creating ??= Promise.all(
      this.streams.map(async (stream) => {
        try {
          await this.call(stream, ['XGROUP', 'CREATE', stream, group, startId, 'MKSTREAM']);
        } catch (err) {
          if (isRedisError(err, 'BUSYGROUP')) return;
          // Creating is a write: a Redis refusing writes (out of memory, a read-only replica
          // during a fail-over) must not stop a consumer whose group is already there.
          if (!(await this.exists(stream))) throw err;
        }
      }),
    )
      .then(() => undefined)
      .finally(() => {
        this.creating = undefined;
      });
    return this.creating;
  }

  /** Whether `stream` has this server's group (XINFO GROUPS: a read); false when it is missing. */
  async exists(stream: string): Promise<boolean> {
    try {
      const groups = (await this.call(stream, ['XINFO', 'GROUPS', stream])) as unknown[][];
      return groups.some((g) => g[g.indexOf('name') + 1] === this.runtime.config.group);
    } catch {
      return false;
    }
  }

  /** Per stream: entries pending in the group and entries not yet delivered to it. */
  lag(): Promise<RedisStreamsLag[]> {
    const commands = this.runtime.commands();
    return Promise.all(
      this.streams.map((stream, partition) => this.lagOf(commands, stream, partition)),
    );
  }

  private async lagOf(
    commands: Redis | Cluster,
    stream: string,
    partition: number,
  ): Promise<RedisStreamsLag> {
    const { group } = this.runtime.config;
    const [summary, groups] = this.runtime.clustered
      ? await callOnNodeOf(
          commands,
          stream,
          ['XPENDING', stream, group],
          ['XINFO', 'GROUPS', stream],
        )
      : await Promise.all([
          commands.call('XPENDING', stream, group),
          commands.call('XINFO', 'GROUPS', stream),
        ]);
    const pending = Array.isArray(summary) ? Number(summary[0]) : 0;
    const info = (Array.isArray(groups) ? groups : []).map(toRecord).find((g) => g.name === group);
    let lag = toNumber(info?.lag);
    if (lag === null && info) {
      const entriesRead = toNumber(info['entries-read']);
      if (entriesRead !== null) {
        const streamInfo = await this.call(stream, ['XINFO', 'STREAM', stream]);
        const added = toNumber(toRecord(streamInfo)['entries-added']);
        lag = added === null ? null : Math.max(added - entriesRead, 0);
      }
    }
    const lastDelivered = info?.['last-delivered-id'];
    return {
      stream,
      partition,
      pending,
      lag,
      lastDeliveredId: typeof lastDelivered === 'string' ? lastDelivered : null,
    };
  }
}

/** `[k1, v1, k2, v2, ...]` → record (XINFO replies). */
export function toRecord(raw: unknown): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  if (!Array.isArray(raw)) return record;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (typeof raw[i] === 'string') record[raw[i] as string] = raw[i + 1];
  }
  return record;
}

export function toNumber(value: unknown): number | null {
  if (value === null || value === undefined || value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}
