import {
  type DynamicModule,
  type FactoryProvider,
  type ModuleMetadata,
  Module,
  type Provider,
} from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { DeploymentSettingsCheck } from './deployment-settings.check';
import { LocalSessionCache } from './local-session-cache';
import { SessionCookies } from './session-cookies';
import { SessionHealth } from './session-health';
import { SessionIndex } from './session-index';
import { SessionStore } from './store/session-store';
import {
  type ResolvedSessionOptions,
  type SessionModuleOptions,
  resolveSessionOptions,
} from './session-options';
import { SessionRedisLifecycle } from './session-redis.provider';
import { SESSION_OPTIONS, SESSION_RAW_OPTIONS, SESSION_REDIS } from './session.constants';
import { SessionGuard } from './session.guard';
import { SessionService } from './session.service';
import { MiddlewareSessions } from './stores/middleware-sessions';
import { SessionSockets } from './websocket/session-sockets';

export interface SessionModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  useFactory: (...args: never[]) => SessionModuleOptions | Promise<SessionModuleOptions>;
  inject?: FactoryProvider['inject'];
}

const sharedProviders: Provider[] = [
  SessionRedisLifecycle,
  {
    provide: SESSION_REDIS,
    useFactory: (lifecycle: SessionRedisLifecycle) => lifecycle.client,
    inject: [SessionRedisLifecycle],
  },
  {
    provide: SessionStore,
    useFactory: (redis: Redis | Cluster, options: ResolvedSessionOptions) =>
      new SessionStore(redis, options),
    inject: [SESSION_REDIS, SESSION_OPTIONS],
  },
  DeploymentSettingsCheck,
  LocalSessionCache,
  SessionIndex,
  SessionService,
  SessionGuard,
  SessionCookies,
  SessionSockets,
  MiddlewareSessions,
  SessionHealth,
];
// The Redis client (SESSION_REDIS) stays inside: apps reach Redis through SessionStore's methods.
const exported = [
  SESSION_OPTIONS,
  SessionStore,
  SessionIndex,
  SessionService,
  SessionGuard,
  SessionCookies,
  SessionSockets,
  MiddlewareSessions,
  SessionHealth,
];

/**
 * `SessionModule.forRoot({ redis: { url } })` once in the app module; global, so the service,
 * guard and cookie helper are injectable everywhere. Options are validated at start-up.
 */
@Module({})
export class SessionModule {
  static forRoot(options: SessionModuleOptions): DynamicModule {
    return {
      module: SessionModule,
      global: true,
      providers: [
        { provide: SESSION_OPTIONS, useValue: resolveSessionOptions(options) },
        ...sharedProviders,
      ],
      exports: exported,
    };
  }

  static forRootAsync(options: SessionModuleAsyncOptions): DynamicModule {
    return {
      module: SessionModule,
      global: true,
      imports: options.imports ?? [],
      providers: [
        {
          provide: SESSION_RAW_OPTIONS,
          useFactory: options.useFactory,
          inject: options.inject ?? [],
        },
        {
          provide: SESSION_OPTIONS,
          useFactory: resolveSessionOptions,
          inject: [SESSION_RAW_OPTIONS],
        },
        ...sharedProviders,
      ],
      exports: exported,
    };
  }
}
