import type { MessageHandler } from '@nestjs/microservices';
import type { Redis } from 'ioredis';
import type { RedisStreamsContext } from '@app/streams/redis-streams.context';
import type { HandlerHost } from '@app/streams/redis-streams.processor';
import { createServerParts, type ServerParts } from '@app/streams/redis-streams.parts';
import { createCounters, type StreamsCounters } from '@app/streams/redis-streams.runtime';
import {
  resolveServerOptions,
  type RedisStreamsServerOptions,
} from '@app/streams/redis-streams.options';
import type { ServerRuntime } from '@app/streams/redis-streams.runtime';

/** One command as a fake connection received it: `[name, ...args]`. */
export type SentCommand = (string | number)[];

/**
 * A stand-in for an ioredis connection in the transport's unit tests: records every command
 * (`call`, pipelines, MULTI) and answers with `reply`, which may throw to simulate an error.
 */
export class FakeRedis {
  /** A `reply` answering this blocks the call until disconnect() (a BLOCK nobody ends). */
  static readonly BLOCK = Symbol('block');
  readonly sent: SentCommand[] = [];
  status = 'ready';
  private readonly blocked: ((err: Error) => void)[] = [];
  private readonly listeners: { event: string; listener: (...args: unknown[]) => void }[] = [];

  constructor(public reply: (command: SentCommand) => unknown = () => 'OK') {}

  async call(...command: SentCommand): Promise<unknown> {
    if (this.status === 'end') throw new Error('Connection is closed.');
    this.sent.push(command);
    const answer = await this.reply(command);
    if (answer !== FakeRedis.BLOCK) return answer;
    return new Promise((_, reject) => this.blocked.push(reject));
  }

  async connect(): Promise<void> {
    this.status = 'ready';
  }

  disconnect(): void {
    this.status = 'end';
    this.blocked.splice(0).forEach((reject) => reject(new Error('Connection is closed.')));
  }

  on(event: string, listener: (...args: unknown[]) => void): this {
    this.listeners.push({ event, listener });
    return this;
  }

  pipeline(): FakeBatch {
    return new FakeBatch(this);
  }

  multi(): FakeBatch {
    return new FakeBatch(this);
  }

  names(): string[] {
    return this.sent.map((c) => String(c[0]));
  }

  asRedis(): Redis {
    return this as unknown as Redis;
  }
}

/** A pipeline or MULTI of {@link FakeRedis}: `exec()` answers `[error, reply]` per command. */
export class FakeBatch {
  private readonly queued: SentCommand[] = [];

  constructor(private readonly redis: FakeRedis) {}

  call(...command: SentCommand): this {
    this.queued.push(command);
    return this;
  }

  exists(key: string): this {
    return this.call('EXISTS', key);
  }

  xpending(...args: SentCommand): this {
    return this.call('XPENDING', ...args);
  }

  async exec(): Promise<[Error | null, unknown][]> {
    // Sent together, as a pipeline is.
    this.redis.sent.push(...this.queued);
    const results: [Error | null, unknown][] = [];
    for (const command of this.queued) {
      try {
        results.push([null, await this.redis.reply(command)]);
      } catch (err) {
        results.push([err as Error, null]);
      }
    }
    return results;
  }
}

export interface FakeRuntime extends ServerRuntime {
  redis: FakeRedis;
  close(): void;
  logs: { level: string; message: string }[];
}

/** A runtime on a {@link FakeRedis}, with options resolved as the server resolves them. */
export function fakeRuntime(
  options: Partial<RedisStreamsServerOptions> = {},
  redis = new FakeRedis(),
  clustered = false,
): FakeRuntime {
  const abort = new AbortController();
  let closed = false;
  const logs: { level: string; message: string }[] = [];
  const log = (level: string) => (message: unknown) => {
    logs.push({ level, message: String(message) });
  };
  return {
    config: resolveServerOptions({ streams: ['s'], group: 'g', consumer: 'c', ...options }),
    logger: { log: log('log'), warn: log('warn'), error: log('error'), debug: log('debug') },
    signal: abort.signal,
    clustered,
    isClosed: () => closed,
    commands: () => redis.asRedis(),
    redis,
    logs,
    close: () => {
      closed = true;
      abort.abort();
    },
  };
}

/** Lets queued promise callbacks and immediates run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export type FakeHandler = (data: unknown, ctx: RedisStreamsContext) => unknown;

/** A host that finds `handlers` by pattern and runs them directly (no Nest hooks). */
export function fakeHost(handlers: Record<string, FakeHandler>): HandlerHost {
  return {
    deserialize: async (pattern, data) => ({ pattern, data }),
    handlerFor: (pattern) => (handlers[pattern] as unknown as MessageHandler) ?? null,
    invoke: async (handler, data, ctx) => {
      try {
        await (handler as unknown as FakeHandler)(data, ctx);
        return { ok: true };
      } catch (error) {
        return { ok: false, error };
      }
    },
  };
}

/**
 * Lets callbacks and timers run until `condition` holds; fails after `timeoutMs` (generous: it
 * only turns a hang into a failure).
 */
export async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met: ${condition.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** The server's parts on a fake runtime, handling with `handlers` (see {@link fakeHost}). */
export function fakeParts(
  runtime: ServerRuntime,
  handlers: Record<string, FakeHandler> = {},
  streams: readonly string[] = ['s'],
): ServerParts & { counters: StreamsCounters } {
  const counters = createCounters();
  return { counters, ...createServerParts(runtime, streams, counters, fakeHost(handlers)) };
}
