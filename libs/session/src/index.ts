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
export {
  type SessionEventConnection,
  sessionEventConsumer,
  type SessionEventConsumerConfig,
  type SessionEventConsumerOptions,
  type SessionEventGroupMode,
  WORKER_EVENT_GROUP,
} from './events/session-event-consumer';
export { OnSessionEvent, type SessionEventContext } from './events/on-session-event.decorator';
