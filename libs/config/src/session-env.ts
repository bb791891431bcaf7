import type { ClusterOptions, RedisOptions } from 'ioredis';
import { type ConfigVariable, ConfigError, type Env, EnvReader } from './env-reader';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Variables every process of a deployment (api and worker) reads the same way. */
export const SESSION_ENV_VARIABLES: readonly ConfigVariable[] = [
  {
    name: 'REDIS_URL',
    default: 'redis://127.0.0.1:6379',
    description: 'redis:// or rediss:// URL',
  },
  {
    name: 'REDIS_CLUSTER_NODES',
    default: undefined,
    description:
      'host:port,host:port seed nodes of a Redis Cluster; when set, REDIS_URL is not used',
  },
  { name: 'SESSION_PREFIX', default: 'sess', description: 'prefix of every Redis key and channel' },
  { name: 'SESSION_IDLE_TTL_SECONDS', default: '3600', description: 'sliding idle expiry' },
  {
    name: 'SESSION_ABSOLUTE_TTL_SECONDS',
    default: '86400',
    description: 'absolute session age; at least the idle TTL',
  },
  {
    name: 'SESSION_MAX_PER_USER',
    default: '100',
    description:
      'concurrent sessions per user, oldest revoked beyond it (0 = no limit; enforced by the worker)',
  },
  {
    name: 'SESSION_SWEEP_INTERVAL_SECONDS',
    default: '60',
    description: 'expiry sweep interval (worker)',
  },
  {
    name: 'SESSION_STREAM_PARTITIONS',
    default: '16',
    description: 'stream partitions (fixed per deployment)',
  },
  { name: 'LOG_LEVEL', default: 'info', description: `one of ${LOG_LEVELS.join(', ')}` },
];

export interface ClusterSeedNode {
  host: string;
  port: number;
}

export interface SessionEnvConfig {
  redisUrl: string;
  /** Seed nodes when the deployment runs on Redis Cluster, else null. */
  redisClusterNodes: ClusterSeedNode[] | null;
  sessionPrefix: string;
  idleTtlSeconds: number;
  absoluteTtlSeconds: number;
  maxSessionsPerUser: number;
  sweepIntervalSeconds: number;
  streamPartitions: number;
  logLevel: LogLevel;
}

const PREFIX = /^[A-Za-z0-9_.-]{1,64}$/;
const ONE_YEAR = 31_536_000;

/**
 * The shared variables, validated (a ConfigError names the first bad one). Give an app's own
 * EnvReader (which declares its other variables too), or an environment: `readSessionEnv()`
 * reads process.env.
 */
export function readSessionEnv(source: EnvReader | Env = process.env): SessionEnvConfig {
  const reader =
    source instanceof EnvReader ? source : new EnvReader(source, SESSION_ENV_VARIABLES);
  const idleTtlSeconds = reader.integer('SESSION_IDLE_TTL_SECONDS', 1, ONE_YEAR);
  const absoluteTtlSeconds = reader.integer('SESSION_ABSOLUTE_TTL_SECONDS', 1, ONE_YEAR);
  if (absoluteTtlSeconds < idleTtlSeconds) {
    throw new ConfigError(
      'SESSION_ABSOLUTE_TTL_SECONDS',
      `must be at least SESSION_IDLE_TTL_SECONDS (${idleTtlSeconds}), got ${absoluteTtlSeconds}`,
    );
  }
  return {
    redisUrl: reader.redisUrl('REDIS_URL'),
    redisClusterNodes: clusterNodes(reader),
    sessionPrefix: reader.matching('SESSION_PREFIX', PREFIX),
    idleTtlSeconds,
    absoluteTtlSeconds,
    maxSessionsPerUser: reader.integer('SESSION_MAX_PER_USER', 0, 100_000),
    sweepIntervalSeconds: reader.integer('SESSION_SWEEP_INTERVAL_SECONDS', 1, 86_400),
    streamPartitions: reader.integer('SESSION_STREAM_PARTITIONS', 1, 1024),
    logLevel: reader.oneOf('LOG_LEVEL', LOG_LEVELS),
  };
}

const NODE = /^([A-Za-z0-9_.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/;

function clusterNodes(reader: EnvReader): ClusterSeedNode[] | null {
  const list = reader.string('REDIS_CLUSTER_NODES');
  if (list === undefined) return null;
  return list.split(',').map((item) => {
    const match = NODE.exec(item.trim());
    const port = match ? Number(match[2]) : NaN;
    if (!match || port < 1 || port > 65_535) {
      throw new ConfigError(
        'REDIS_CLUSTER_NODES',
        `must be host:port[,host:port...] (got ${JSON.stringify(item)})`,
      );
    }
    return { host: match[1].replace(/^\[|\]$/g, ''), port };
  });
}

/** The session library's `redis` option for this environment: a cluster or a single Redis. */
export function sessionRedisConfig(
  config: Pick<SessionEnvConfig, 'redisUrl' | 'redisClusterNodes'>,
  options: RedisOptions = {},
):
  | { cluster: { nodes: ClusterSeedNode[]; options: ClusterOptions } }
  | { url: string; options: RedisOptions } {
  return config.redisClusterNodes
    ? {
        cluster: {
          nodes: config.redisClusterNodes,
          options: { ...options, redisOptions: options },
        },
      }
    : { url: config.redisUrl, options };
}

/**
 * The session library's options for this environment (a `SessionModuleOptions`, stated
 * structurally: libs do not import each other). The api, the worker and the rebuild command all
 * build theirs here, so they cannot read the shared variables differently; each adds only what is
 * its own (the api's cookie, the worker's disabled cache).
 */
export function sessionOptionsFromEnv(
  config: Pick<
    SessionEnvConfig,
    | 'redisUrl'
    | 'redisClusterNodes'
    | 'sessionPrefix'
    | 'idleTtlSeconds'
    | 'absoluteTtlSeconds'
    | 'streamPartitions'
  >,
  redisOptions: RedisOptions = {},
): {
  redis: ReturnType<typeof sessionRedisConfig>;
  keyPrefix: string;
  idleTtlSeconds: number;
  absoluteTtlSeconds: number;
  streamPartitions: number;
} {
  return {
    redis: sessionRedisConfig(config, redisOptions),
    keyPrefix: config.sessionPrefix,
    idleTtlSeconds: config.idleTtlSeconds,
    absoluteTtlSeconds: config.absoluteTtlSeconds,
    streamPartitions: config.streamPartitions,
  };
}
