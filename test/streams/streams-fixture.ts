import { Controller, Inject, Logger, Module, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import Redis from 'ioredis';
import {
  RedisStreamsContext,
  RedisStreamsServer,
  type RedisStreamsServerOptions,
} from '@app/streams';
import {
  deleteKeysWithPrefix,
  newRedisClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/test-redis';
import { sleep } from '../support/sleep';

/** Set STREAMS_TEST_LOGS=1 to see the transport's logs. */
export const TEST_LOGGER: false | LogLevel[] = process.env.STREAMS_TEST_LOGS
  ? ['log', 'warn', 'error', 'debug']
  : false;
Logger.overrideLogger(TEST_LOGGER);

// Test payloads are arbitrary JSON; handlers read whatever fields their test wrote.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ProbeHandler = (data: any, ctx: RedisStreamsContext) => unknown;

const PROBE = Symbol('PROBE');

/** A Nest app with one @EventPattern controller delegating `patterns` to `handle`. */
export function probeModule(patterns: string[], handle: ProbeHandler): new () => object {
  @Controller()
  class ProbeController {
    constructor(@Inject(PROBE) private readonly probe: ProbeHandler) {}

    @EventPattern(patterns)
    onEvent(@Payload() data: unknown, @Ctx() ctx: RedisStreamsContext): unknown {
      return this.probe(data, ctx);
    }
  }

  @Module({ controllers: [ProbeController], providers: [{ provide: PROBE, useValue: handle }] })
  class ProbeModule {}

  return ProbeModule;
}

export interface RunningConsumer {
  app: INestMicroservice;
  server: RedisStreamsServer;
  close(): Promise<void>;
}

/** Starts a RedisStreamsServer inside a Nest microservice. */
export async function startConsumer(
  options: Partial<RedisStreamsServerOptions> &
    Pick<RedisStreamsServerOptions, 'streams' | 'group'>,
  patterns: string[],
  handle: ProbeHandler,
): Promise<RunningConsumer> {
  const server = new RedisStreamsServer({
    connection: testRedisUrl(),
    consumer: 'c1',
    blockMs: 200,
    claimIntervalMs: 100,
    claimIdleMs: 1_000,
    retryDelayMs: 10,
    shutdownTimeoutMs: 2_000,
    startId: '0',
    ...options,
  });
  const app = await NestFactory.createMicroservice(probeModule(patterns, handle), {
    strategy: server,
    logger: TEST_LOGGER,
  });
  await app.listen();
  let closed: Promise<void> | undefined;
  return { app, server, close: () => (closed ??= app.close()) };
}

export interface StreamsTestContext {
  /** A client of the test Redis (valid inside tests). */
  readonly redis: Redis;
  /** A key prefix of this test's own (a new one per test). */
  readonly prefix: string;
  /** startConsumer, closed after the test. */
  start(...args: Parameters<typeof startConsumer>): Promise<RunningConsumer>;
  /** Closes `consumer` after the test (for one started another way). */
  track(consumer: RunningConsumer): RunningConsumer;
}

/**
 * The hooks every streams suite needs: a client of the test Redis, a fresh key prefix per test,
 * and, after each test, its consumers closed and its keys deleted.
 */
export function streamsTestContext(label: string): StreamsTestContext {
  let redis: Redis | undefined;
  let prefix = '';
  const running: RunningConsumer[] = [];
  const track = (consumer: RunningConsumer): RunningConsumer => {
    running.push(consumer);
    return consumer;
  };
  beforeAll(() => {
    redis = newRedisClient();
  });
  beforeEach(() => {
    prefix = uniquePrefix(label);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((c) => c.close()));
    if (redis) await deleteKeysWithPrefix(redis, prefix);
  });
  afterAll(async () => {
    await redis?.quit();
  });
  return {
    get redis() {
      if (!redis) throw new Error('streamsTestContext: use redis inside a test');
      return redis;
    },
    get prefix() {
      return prefix;
    },
    start: async (...args) => track(await startConsumer(...args)),
    track,
  };
}

/** Polls until `check` returns a truthy value; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`,
      );
    }
    await sleep(intervalMs);
  }
}

export class Deferred<T = void> {
  resolve!: (value: T) => void;
  reject!: (err: unknown) => void;
  readonly promise = new Promise<T>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });
}

/** XADD in the producer's wire format. */
export function xadd(
  redis: Redis,
  stream: string,
  pattern: string,
  data: unknown,
): Promise<string> {
  return redis.xadd(
    stream,
    '*',
    'pattern',
    pattern,
    'data',
    JSON.stringify(data),
  ) as Promise<string>;
}

export interface PendingEntry {
  id: string;
  consumer: string;
  idleMs: number;
  deliveries: number;
}

/** XPENDING detail of a stream's group. */
export async function pendingEntries(
  redis: Redis,
  stream: string,
  group: string,
): Promise<PendingEntry[]> {
  const rows = (await redis.xpending(stream, group, '-', '+', 1000)) as [
    string,
    string,
    number,
    number,
  ][];
  return rows.map(([id, consumer, idleMs, deliveries]) => ({ id, consumer, idleMs, deliveries }));
}

/** Resolves when `promise` settles, or with 'pending' after `ms`. */
export async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<'pending'>((resolve) => {
        timer = setTimeout(() => resolve('pending'), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Counts XREADGROUP calls in flight on the server's blocking connection (wraps its `call`): more
 * than one at a time would mean a second read loop.
 */
export function watchConcurrentReads(server: RedisStreamsServer): {
  max: () => number;
  total: () => number;
} {
  const [reader] = server.unwrap<[Redis, Redis]>();
  const original = reader.call.bind(reader) as (...args: unknown[]) => Promise<unknown>;
  let inFlight = 0;
  let max = 0;
  let total = 0;
  (reader as unknown as { call: (...args: unknown[]) => Promise<unknown> }).call = async (
    ...args: unknown[]
  ) => {
    if (String(args[0]).toUpperCase() !== 'XREADGROUP') return original(...args);
    total++;
    max = Math.max(max, ++inFlight);
    try {
      return await original(...args);
    } finally {
      inFlight--;
    }
  };
  return { max: () => max, total: () => total };
}
