import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { Cluster, Redis } from 'ioredis';
// By path, not '@app/config': the library (and its testing kit) also loads where no path
// aliases are set up, e.g. jest's globalSetup.
import { LogThrottle } from '../../config/src/log-throttle';
import type { ResolvedSessionOptions } from './session-options';
import { SESSION_OPTIONS } from './session.constants';

const READY_WAIT_MS = 5000;

/**
 * Owns the Redis client when the library created it (from a URL or options) and leaves an app's
 * own client alone. The request path gets a bounded wait: no offline queue, a command timeout, so
 * an outage answers 503 quickly instead of hanging requests.
 */
@Injectable()
export class SessionRedisLifecycle implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('SessionRedis');
  readonly client: Redis | Cluster;
  private readonly owned: boolean;
  private connecting?: Promise<boolean>;

  constructor(@Inject(SESSION_OPTIONS) options: ResolvedSessionOptions) {
    const config = options.redis;
    if ('client' in config) {
      this.client = config.client;
      this.owned = false;
      return;
    }
    // A write whose reply was lost with the connection must not be re-sent after the reconnect:
    // the script may already have run (a re-sent create would then find its own session).
    // The caller gets a 503 instead, and the state is whatever Redis applied, event included.
    const bounded = {
      commandTimeout: options.commandTimeoutMs,
      maxRetriesPerRequest: 1,
      autoResendUnfulfilledCommands: false,
      connectionName: 'session',
    };
    if ('cluster' in config) {
      const clusterOptions = config.cluster.options ?? {};
      this.client = new Cluster(config.cluster.nodes, {
        ...clusterOptions,
        lazyConnect: true,
        enableOfflineQueue: false,
        redisOptions: { ...clusterOptions.redisOptions, ...bounded },
      });
    } else {
      const clientOptions = {
        ...('options' in config ? config.options : {}),
        lazyConnect: true,
        enableOfflineQueue: false,
        ...bounded,
      };
      this.client =
        'url' in config ? new Redis(config.url, clientOptions) : new Redis(clientOptions);
    }
    // Every reconnect attempt fails while Redis is down: one line per 10 s, with a count.
    const throttle = new LogThrottle();
    this.client.on('error', (error: Error) => {
      const line = throttle.line('error', `Redis: ${error.message}`);
      if (line) this.logger.warn(line);
    });
    this.client.on('ready', () => throttle.reset('error'));
    this.owned = true;
  }

  /** Connects before the app serves; if Redis is down the app still starts and answers 503. */
  async onModuleInit(): Promise<void> {
    if (!(await this.connect()) && this.owned) {
      this.logger.warn('Redis is not reachable yet; session requests answer 503 until it is');
    }
  }

  /**
   * Connects the client the library owns (once) and waits, at most a few seconds, until it is
   * ready. True when Redis is ready to answer.
   */
  connect(): Promise<boolean> {
    this.connecting ??= this.waitUntilReady();
    return this.connecting;
  }

  private async waitUntilReady(): Promise<boolean> {
    const client = this.client;
    if (client.status === 'ready') return true;
    if (client.status === 'end') return false;
    const ready = new Promise<boolean>((resolve) => client.once('ready', () => resolve(true)));
    if (this.owned && client.status === 'wait') client.connect().catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), READY_WAIT_MS).unref();
    });
    const result = await Promise.race([ready, timedOut]);
    clearTimeout(timer);
    return result;
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.owned || this.client.status === 'end') return;
    // QUIT on a connection that is down would wait for a reconnect: just drop it then.
    if (this.client.status !== 'ready') {
      this.client.disconnect();
      return;
    }
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }
}
