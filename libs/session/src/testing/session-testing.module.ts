import {
  type DynamicModule,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { SessionCookies } from '../session-cookies';
import { SessionModule } from '../session.module';
import { resolveSessionOptions, type SessionModuleOptions } from '../session-options';
import { SESSION_OPTIONS } from '../session.constants';
import { SessionGuard } from '../session.guard';
import { SessionService } from '../session.service';
import { SessionSockets } from '../websocket/session-sockets';
import { deleteKeysWithPrefix } from './delete-keys';
import { InMemorySessions } from './in-memory-sessions';
import { provideTestRedis } from './test-redis-provider';

export interface SessionTestingOptions extends Partial<Omit<SessionModuleOptions, 'redis'>> {
  /** Redis to use; default REDIS_URL, else testcontainers, else a spawned redis-server. */
  redisUrl?: string;
}

/** Where a testing module keeps its sessions: the Redis URL and its own key prefix. */
export interface SessionTestingTarget {
  redisUrl: string;
  keyPrefix: string;
}

/** Inject to learn the Redis URL and key prefix a testing module uses (e.g. to inspect keys). */
export const SESSION_TESTING_TARGET = Symbol('SESSION_TESTING_TARGET');
const TESTING_TARGET = SESSION_TESTING_TARGET;

/** One provided Redis per test process, shared by every testing module of it. */
let sharedRedis: Promise<string> | undefined;
function testRedisUrl(): Promise<string> {
  // A spawned server is killed when the process exits; a container by testcontainers' reaper.
  sharedRedis ??= provideTestRedis().then((provided) => provided.url);
  return sharedRedis;
}

/** Deletes the module's keys on close, so a suite leaves nothing behind on a shared Redis. */
@Injectable()
class SessionTestingCleanup implements OnApplicationShutdown {
  constructor(@Inject(TESTING_TARGET) private readonly target: SessionTestingTarget) {}

  async onApplicationShutdown(): Promise<void> {
    const redis = new Redis(this.target.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      await deleteKeysWithPrefix(redis, this.target.keyPrefix);
    } catch {
      // Redis already gone: nothing left to clean.
    } finally {
      redis.disconnect();
    }
  }
}

@Module({})
class SessionTestingTargetModule {
  static register(options: SessionTestingOptions): DynamicModule {
    return {
      module: SessionTestingTargetModule,
      providers: [
        {
          provide: TESTING_TARGET,
          useFactory: async (): Promise<SessionTestingTarget> => ({
            redisUrl: options.redisUrl ?? (await testRedisUrl()),
            keyPrefix: options.keyPrefix ?? `test-${randomBytes(6).toString('hex')}`,
          }),
        },
        SessionTestingCleanup,
      ],
      exports: [TESTING_TARGET],
    };
  }
}

/**
 * The real library on a throwaway Redis for tests: `SessionTestingModule.forRoot()` in place of
 * `SessionModule.forRoot(...)`. Every module gets its own key prefix, deleted when the app
 * closes; the Redis is REDIS_URL, else a testcontainers Redis, else a spawned redis-server.
 */
@Module({})
export class SessionTestingModule {
  static forRoot(options: SessionTestingOptions = {}): DynamicModule {
    const libraryOptions: Partial<SessionModuleOptions> = { ...options };
    delete (libraryOptions as SessionTestingOptions).redisUrl;
    const target = SessionTestingTargetModule.register(options);
    return {
      module: SessionTestingModule,
      imports: [
        target,
        SessionModule.forRootAsync({
          imports: [target],
          inject: [TESTING_TARGET],
          useFactory: (found: SessionTestingTarget) => ({
            ...libraryOptions,
            // Tests run over plain http: the Secure cookie flag (and so the __Host- prefix) off.
            cookie: { secure: false, ...libraryOptions.cookie },
            redis: { url: found.redisUrl },
            keyPrefix: found.keyPrefix,
          }),
        }),
      ],
      exports: [target],
    };
  }

  /**
   * FOR UNIT TESTS ONLY: no Redis at all. The real SessionGuard, SessionCookies and decorators
   * over InMemorySessions (provided as SessionService, and injectable as itself): sessions live
   * in a Map of the test process, with none of the library's data rules, events or cross-instance
   * revocation. SessionService methods it lacks throw, naming `forRoot()`; gateways are refused.
   */
  static withoutRedis(options: Partial<Omit<SessionModuleOptions, 'redis'>> = {}): DynamicModule {
    const resolved = resolveSessionOptions({
      ...options,
      cookie: { secure: false, ...options.cookie },
      redis: { url: 'redis://in-memory.invalid' },
    });
    return {
      module: SessionTestingModule,
      global: true,
      providers: [
        { provide: SESSION_OPTIONS, useValue: resolved },
        InMemorySessions,
        {
          provide: SessionService,
          useFactory: (sessions: InMemorySessions) => asSessionService(sessions),
          inject: [InMemorySessions],
        },
        { provide: SessionSockets, useValue: noSockets },
        SessionCookies,
        SessionGuard,
      ],
      exports: [
        SESSION_OPTIONS,
        InMemorySessions,
        SessionService,
        SessionSockets,
        SessionCookies,
        SessionGuard,
      ],
    };
  }
}

/** The in-memory sessions under SessionService's name; its other methods throw, saying why. */
function asSessionService(sessions: InMemorySessions): SessionService {
  return new Proxy(sessions, {
    get(target, property, receiver) {
      if (property in target) return Reflect.get(target, property, receiver) as unknown;
      if (typeof property === 'string' && property in SessionService.prototype) {
        const unavailable = () => {
          throw new Error(
            `SessionService.${property} is not available in SessionTestingModule.withoutRedis(): ` +
              'test this code with SessionTestingModule.forRoot() (a real Redis)',
          );
        };
        const descriptor = Object.getOwnPropertyDescriptor(SessionService.prototype, property);
        return descriptor?.get ? unavailable() : unavailable;
      }
      return undefined;
    },
  }) as unknown as SessionService;
}

/** Without Redis there is no handshake authentication: every gateway message is refused. */
const noSockets: Pick<SessionSockets, 'verifyClient'> = { verifyClient: () => undefined };
