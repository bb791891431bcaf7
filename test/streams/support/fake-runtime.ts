import type { Redis } from 'ioredis';
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
  readonly sent: SentCommand[] = [];
  status = 'ready';

  constructor(public reply: (command: SentCommand) => unknown = () => 'OK') {}

  async call(...command: SentCommand): Promise<unknown> {
    this.sent.push(command);
    return this.reply(command);
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
    const results: [Error | null, unknown][] = [];
    for (const command of this.queued) {
      this.redis.sent.push(command);
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
