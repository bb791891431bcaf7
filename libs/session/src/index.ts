export * from './errors';
export type { Invalidation, RevocationNotice } from './invalidation-message';
export { SessionStore } from './store/session-store';
export type {
  CounterLimit,
  NewSessionRecord,
  Reservation,
  ScriptOutcome,
  SessionTimes,
  StoredEventEntry,
  StoredSessionRow,
  UserSessionRows,
} from './store/session-store.types';
export { type ExpiryMember, expiryMember, parseExpiryMember } from './store/expiry-member';
export { revokedByEpoch } from './store/revocation-rule';
export { SESSION_FIELD } from './store/session-fields';
export { NEWEST_SESSION_FORMAT, type SessionFormat } from './store/session-format';
export {
  DEPLOYMENT_SETTING_NAMES,
  type DeploymentSettingName,
  deploymentSettingsOf,
  FIXED_DEPLOYMENT_SETTINGS,
} from './store/deployment-settings';
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
export { type SessionKeyKind, SessionKeys } from './store/session-keys';
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
export { SESSION_OPTIONS } from './session.constants';
export {
  CurrentSession,
  CurrentUser,
  Public,
  type PublicRouteOptions,
  Roles,
  SkipCsrf,
} from './session.decorators';
export { CurrentPrincipal, PrincipalPipe, principalOf } from './principal';
export { SessionGuard } from './session.guard';
export { HEALTH_PING_TIMEOUT_MS, SessionHealth, type SessionReadiness } from './session-health';
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
export { MiddlewareSessions, type SessionRead } from './stores/middleware-sessions';
export {
  CONNECT_REDIS_PREFIX,
  type LegacySerializer,
  type MiddlewareSessionData,
  type MiddlewareStoreOptions,
  passportUserOf,
} from './stores/middleware-store-options';
export { type EventSourcedExpressStore, expressSessionStore } from './stores/express-session-store';
export { FastifySessionStore } from './stores/fastify-session-store';
export {
  type SessionEventConnection,
  sessionEventConsumer,
  type SessionEventConsumerConfig,
  type SessionEventConsumerOptions,
  type SessionEventGroupMode,
  WORKER_EVENT_GROUP,
} from './events/session-event-consumer';
export { OnSessionEvent, type SessionEventContext } from './events/on-session-event.decorator';
