import { Cluster, type ClusterOptions, type Redis, type RedisOptions } from 'ioredis';
import { RedisStreamsConfigError } from './redis-streams.errors';
import type {
  RedisStreamsClusterConnection,
  RedisStreamsConnection,
} from './redis-streams.options';

/** Number of hash slots of a Redis Cluster. */
export const CLUSTER_SLOTS = 16_384;

/** CRC16-CCITT (XMODEM), the checksum Redis Cluster hashes keys with. */
const CRC16_TABLE = ((): Uint16Array => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    table[i] = crc;
  }
  return table;
})();

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xff];
  return crc;
}

/**
 * Hash slot of a key, as Redis Cluster computes it (CLUSTER KEYSLOT): CRC16 of the key, or of
 * its hash tag (the bytes between the first `{` and the next `}`, when not empty), mod 16384.
 */
export function keySlot(key: string): number {
  const bytes = Buffer.from(key, 'utf8');
  const open = bytes.indexOf(0x7b); // {
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1); // }
    if (close > open + 1) return crc16(bytes.subarray(open + 1, close)) % CLUSTER_SLOTS;
  }
  return crc16(bytes) % CLUSTER_SLOTS;
}

/** Streams grouped by hash slot (XREADGROUP over several keys needs them in one slot). */
export function groupBySlot(streams: readonly string[]): { slot: number; streams: string[] }[] {
  const groups = new Map<number, string[]>();
  for (const stream of streams) {
    const slot = keySlot(stream);
    const list = groups.get(slot) ?? [];
    list.push(stream);
    groups.set(slot, list);
  }
  return [...groups].map(([slot, list]) => ({ slot, streams: list }));
}

export function isClusterConnection(
  connection: RedisStreamsConnection | undefined,
): connection is RedisStreamsClusterConnection {
  return (
    typeof connection === 'object' &&
    connection !== null &&
    'cluster' in connection &&
    typeof (connection as { cluster?: unknown }).cluster === 'object'
  );
}

export interface NodeAddress {
  host: string;
  port: number;
}

/** `host:port` (ioredis node key; the host may be an IPv6 address) → address. */
export function parseNodeKey(key: string): NodeAddress {
  const colon = key.lastIndexOf(':');
  if (colon <= 0) throw new Error(`RedisStreams: invalid node address "${key}"`);
  return { host: key.slice(0, colon), port: Number(key.slice(colon + 1)) };
}

/**
 * The address to connect to for a node key a cluster node reported (a MOVED target), through the
 * `natMap` option like ioredis does for its own connections.
 */
export function mapNodeKey(options: ClusterOptions | undefined, key: string): string {
  const natMap = options?.natMap;
  const mapped = typeof natMap === 'function' ? natMap(key) : natMap ? (natMap[key] ?? null) : null;
  return mapped ? `${mapped.host}:${mapped.port}` : key;
}

export interface Redirection {
  kind: 'MOVED' | 'ASK';
  slot: number;
  /** `host:port` as the node reported it. */
  node: string;
}

/** `MOVED 3999 127.0.0.1:6381` / `ASK 3999 127.0.0.1:6381` → redirection; else undefined. */
export function parseRedirection(err: unknown): Redirection | undefined {
  if (!(err instanceof Error)) return undefined;
  const match = /^(MOVED|ASK) (\d+) (\S+)/.exec(err.message);
  if (!match) return undefined;
  return { kind: match[1] as 'MOVED' | 'ASK', slot: Number(match[2]), node: match[3] };
}

type ClusterRedisOptions = NonNullable<ClusterOptions['redisOptions']>;

export interface CreateClusterArgs {
  cluster: RedisStreamsClusterConnection['cluster'];
  /** Cluster-level defaults the user's options may override. */
  defaults?: ClusterOptions;
  /** Cluster-level options applied over the user's. */
  forced?: ClusterOptions;
  /** Defaults of every node connection (`redisOptions`), under the user's. */
  nodeDefaults?: ClusterRedisOptions;
  /** Node connection options applied over the user's. */
  nodeForced?: ClusterRedisOptions;
  retryStrategy: (times: number) => number | null;
}

/** A new lazy ioredis Cluster client (connected by `connectClient`), never shared. */
export function createClusterConnection({
  cluster,
  defaults,
  forced,
  nodeDefaults,
  nodeForced,
  retryStrategy,
}: CreateClusterArgs): Cluster {
  const user = cluster.options ?? {};
  return new Cluster([...cluster.nodes], {
    ...defaults,
    ...user,
    ...forced,
    lazyConnect: true,
    clusterRetryStrategy: retryStrategy,
    redisOptions: {
      // See createConnection: no 2 s timer keeping the process alive after disconnect().
      disconnectTimeout: 0,
      ...nodeDefaults,
      ...user.redisOptions,
      ...nodeForced,
    },
  });
}

/**
 * Options of a standalone connection to one node of the cluster (the server's blocking readers):
 * the user's `redisOptions` (credentials, TLS, ...) with `defaults` under them, `forced` over them.
 */
export function clusterNodeOptions(
  cluster: RedisStreamsClusterConnection['cluster'],
  address: NodeAddress,
  defaults: RedisOptions,
  forced: RedisOptions,
): RedisOptions {
  return {
    disconnectTimeout: 0,
    ...defaults,
    ...cluster.options?.redisOptions,
    ...forced,
    host: address.host,
    port: address.port,
    lazyConnect: true,
  };
}

/**
 * Cluster: commands ioredis cannot route (it knows no key position for XINFO, XGROUP, XACKDEL)
 * are pipelined behind `EXISTS key`, which sends the pipeline to the node serving the key and
 * makes it follow MOVED / ASK. Resolves with their replies; rejects with the first error.
 */
export async function callOnNodeOf(
  client: Redis | Cluster,
  key: string,
  ...commands: [string, ...(string | number)[]][]
): Promise<unknown[]> {
  const pipeline = client.pipeline().exists(key);
  commands.forEach(([name, ...args]) => pipeline.call(name, ...args));
  const results = (await pipeline.exec()) ?? [];
  const failure = results.find(([err]) => err)?.[0];
  if (failure) throw failure;
  return results.slice(1).map(([, reply]) => reply);
}

/** Every dead-letter stream must hash to its source's slot (one MULTI writes both). */
export function checkDeadLetterSlots(
  streams: readonly string[],
  deadLetterStream: (stream: string) => string,
): void {
  for (const stream of streams) {
    const dead = deadLetterStream(stream);
    if (keySlot(dead) !== keySlot(stream)) {
      throw new RedisStreamsConfigError(
        `RedisStreamsServer: on Redis Cluster the dead-letter stream "${dead}" must hash to the ` +
          `slot of "${stream}" (${keySlot(stream)}, not ${keySlot(dead)}): keep its hash tag, ` +
          `e.g. "${stream}:dead"`,
      );
    }
  }
}
