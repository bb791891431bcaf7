import { hostname } from 'node:os';
import {
  type ConfigVariable,
  type Env,
  EnvReader,
  readSessionEnv,
  SESSION_ENV_VARIABLES,
  type SessionEnvConfig,
} from '@app/config';

/** An IPv4/IPv6 address or a host name. */
const HOST = /^[A-Za-z0-9.:_-]{1,253}$/;

/** Every environment variable the worker reads, with its default (checked against docker-compose.yml). */
export const WORKER_CONFIG_VARIABLES: readonly ConfigVariable[] = [
  ...SESSION_ENV_VARIABLES,
  {
    name: 'NODE_ENV',
    default: undefined,
    description: 'development writes human-readable log lines; anything else JSON lines',
  },
  { name: 'WORKER_PORT', default: '3001', description: 'HTTP port of /health and /metrics' },
  {
    name: 'WORKER_HOST',
    default: '127.0.0.1',
    description:
      'address /health and /metrics listen on (loopback by default; 0.0.0.0 for a scraper on another host)',
  },
  {
    name: 'WORKER_CONSUMER_NAME',
    default: undefined,
    description: 'stable, unique consumer name in the group (default: the host name)',
  },
  {
    name: 'WORKER_CONCURRENCY',
    default: '64',
    description: 'events applied at once (per-user order is kept)',
  },
  {
    name: 'WORKER_MAX_DELIVERIES',
    default: '5',
    description: 'deliveries before an event is dead-lettered',
  },
  {
    name: 'WORKER_CLAIM_IDLE_MS',
    default: '30000',
    description: 'idle time after which a dead consumer’s events are claimed',
  },
  {
    name: 'WORKER_SHUTDOWN_TIMEOUT_MS',
    default: '8000',
    description:
      'the worker exits within this after SIGTERM/SIGINT (inside Docker’s 10 s grace); unfinished entries stay pending',
  },
  {
    name: 'WORKER_HANDLER_TIMEOUT_MS',
    default: '10000',
    description:
      'longest an event handler may run; then its event is released to another replica (or dead-lettered on its last delivery); 0 = no limit',
  },
  {
    name: 'WORKER_PROGRESS_TIMEOUT_MS',
    default: '60000',
    description: '/health answers 503 when events are waiting and none was settled for this long',
  },
  {
    name: 'SESSION_SWEEP_BATCH',
    default: '500',
    description: 'expiry entries swept per partition per run',
  },
];

export interface WorkerConfig extends SessionEnvConfig {
  port: number;
  host: string;
  /** `development` or production-like (anything else). */
  nodeEnv: string;
  consumerName: string;
  concurrency: number;
  maxDeliveries: number;
  claimIdleMs: number;
  shutdownTimeoutMs: number;
  handlerTimeoutMs: number;
  progressTimeoutMs: number;
  sweepBatch: number;
}

export const WORKER_CONFIG = Symbol('WORKER_CONFIG');

/** Parses and validates the environment; throws ConfigError naming the first bad variable. */
export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  const reader = new EnvReader(env, WORKER_CONFIG_VARIABLES);
  return {
    ...readSessionEnv(reader),
    nodeEnv: reader.string('NODE_ENV') ?? 'production',
    port: reader.integer('WORKER_PORT', 0, 65_535),
    host: reader.matching('WORKER_HOST', HOST),
    consumerName: reader.string('WORKER_CONSUMER_NAME') ?? hostname(),
    concurrency: reader.integer('WORKER_CONCURRENCY', 1, 10_000),
    maxDeliveries: reader.integer('WORKER_MAX_DELIVERIES', 1, 1000),
    claimIdleMs: reader.integer('WORKER_CLAIM_IDLE_MS', 1000, 86_400_000),
    shutdownTimeoutMs: reader.integer('WORKER_SHUTDOWN_TIMEOUT_MS', 0, 600_000),
    handlerTimeoutMs: reader.integer('WORKER_HANDLER_TIMEOUT_MS', 0, 3_600_000),
    progressTimeoutMs: reader.integer('WORKER_PROGRESS_TIMEOUT_MS', 1000, 86_400_000),
    sweepBatch: reader.integer('SESSION_SWEEP_BATCH', 1, 100_000),
  };
}
