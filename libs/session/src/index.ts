export * from './errors';
export type { Invalidation, RevocationNotice } from './invalidation-message';
export { SessionRepository } from './session.repository';
export {
  SessionIndex,
  type SessionPage,
  type SessionSummary,
  type SweepOutcome,
} from './session-index';
export {
  PROPAGATION_BUCKETS_MS,
  type SessionStatsSnapshot,
  type SubscriberState,
} from './session-stats';
export { SessionKeys } from './keys';
export { SessionCookies, type CookieResponse, type CookieSession } from './session-cookies';
export { SessionErrorFilter, SESSION_ERROR_STATUS } from './session-error.filter';
export * from './session-events';
export { DEFAULT_FORBIDDEN_DATA_KEYS } from './forbidden-data';
export {
  resolveSessionOptions,
  type ResolvedSessionOptions,
  type SessionCacheConfig,
  type SessionCookieOptions,
  type SessionModuleOptions,
  type SessionRedisConfig,
} from './session-options';
export { extractToken, type SessionAuthSource, type SessionRequest } from './session-request';
export { SESSION_OPTIONS, SESSION_REDIS } from './session.constants';
export {
  CurrentSession,
  CurrentUser,
  Public,
  type PublicRouteOptions,
  Roles,
  SkipCsrf,
} from './session.decorators';
export { SessionGuard } from './session.guard';
export { SessionModule, type SessionModuleAsyncOptions } from './session.module';
export { SessionService } from './session.service';
export type * from './session.types';
export { SessionSockets, type SocketAuthOptions } from './websocket/session-sockets';
export {
  type GatewayClient,
  type SocketIoClient,
  WS_CLOSE_UNAUTHORIZED,
  type WsClient,
} from './websocket/socket-client';
