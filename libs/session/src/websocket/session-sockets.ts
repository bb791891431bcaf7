import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { SessionStoreUnavailableError } from '../errors';
import { extractToken, type IncomingSessionRequest } from '../session-request';
import type { ResolvedSessionOptions } from '../session-options';
import { SESSION_OPTIONS } from '../session.constants';
import { SessionService } from '../session.service';
import type { Session, ValidationResult } from '../session.types';
import { sameOriginHandshake } from './handshake-origin';
import {
  closeClient,
  type GatewayClient,
  handshakeOf,
  isSocketIo,
  onClientGone,
} from './socket-client';

/** What a gateway client authenticated with, kept for the guard and the periodic re-check. */
interface SocketSession {
  session: Session;
  token: string;
  revoked: Subscription;
}

export interface SocketAuthOptions {
  /**
   * Origins besides the handshake's own host allowed to open a cookie-authenticated connection
   * (a cookie is sent by the browser from any site: this stops cross-site WebSocket hijacking).
   */
  allowedOrigins?: readonly string[];
}

/**
 * Authenticates WebSocket gateway connections (socket.io or ws) with the session library, and
 * ends them the moment their session ends anywhere: `await sockets.authenticate(client, request)`
 * in `handleConnection`. The token comes from the socket.io auth payload (`{ token }`), else the
 * handshake's cookie, `x-session-id` or `Authorization: Bearer` header. SessionGuard then checks
 * every message (session still valid, `@Roles()`), and `@CurrentSession()` / `@CurrentUser()`
 * work in message handlers.
 *
 * A connection ends when its session is revoked on any instance (pub/sub, milliseconds), and a
 * periodic re-check every `cache.maxStalenessMs` also ends those whose session expired or whose
 * revocation message was lost.
 */
@Injectable()
export class SessionSockets implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('SessionSockets');
  private readonly byClient = new WeakMap<object, SocketSession>();
  private readonly live = new Set<GatewayClient>();
  private readonly pending = new WeakMap<object, Promise<Session | null>>();
  private recheckTimer?: NodeJS.Timeout;

  constructor(
    private readonly sessions: SessionService,
    @Inject(SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
  ) {}

  onModuleInit(): void {
    const every = Math.max(1000, this.options.cache.maxStalenessMs);
    this.recheckTimer = setInterval(() => void this.recheckAll(), every);
    this.recheckTimer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.recheckTimer);
    for (const client of this.live) this.forget(client);
  }

  /**
   * Authenticates a new connection. On success the session is attached to the client and
   * returned; otherwise the connection is closed (ws code 4401, socket.io `session_ended` then
   * disconnect) and null returned.
   */
  authenticate(
    client: GatewayClient,
    request?: { headers: IncomingSessionRequest['headers'] },
    options: SocketAuthOptions = {},
  ): Promise<Session | null> {
    // A client may send its first messages before this settles: the guard waits for it.
    const authenticating = this.authenticateNow(client, request, options).finally(() =>
      this.pending.delete(client),
    );
    this.pending.set(client, authenticating);
    return authenticating;
  }

  private async authenticateNow(
    client: GatewayClient,
    request: { headers: IncomingSessionRequest['headers'] } | undefined,
    options: SocketAuthOptions,
  ): Promise<Session | null> {
    const handshake = handshakeOf(client, request);
    const found = this.tokenOf(client, handshake);
    if (!found) return this.refuse(client, 'no session');
    if (
      found.source === 'cookie' &&
      !sameOriginHandshake(handshake.headers, options.allowedOrigins ?? [])
    )
      return this.refuse(client, 'cross-site handshake');
    let result: ValidationResult;
    try {
      result = await this.sessions.verify(found.token);
    } catch (error) {
      if (error instanceof SessionStoreUnavailableError)
        return this.refuse(client, 'session store unavailable');
      throw error;
    }
    if (!result.valid) return this.refuse(client, 'invalid session');
    const session = result.session;
    const revoked = this.sessions
      .watch(session)
      .subscribe(() => this.end(client, 'session revoked'));
    this.byClient.set(client, { session, token: found.token, revoked });
    this.live.add(client);
    (client as { session?: Session }).session = session;
    onClientGone(client, () => this.forget(client));
    return session;
  }

  /** The session a connection authenticated with (undefined when it did not). */
  sessionOf(client: object): Session | undefined {
    return this.byClient.get(client)?.session;
  }

  /**
   * Re-validates a connection's session (for each message, by SessionGuard): from the local
   * cache when fresh, else one Redis round trip. An ended session ends the connection.
   */
  verifyClient(client: object): ValidationResult | Promise<ValidationResult> | undefined {
    const entry = this.byClient.get(client);
    if (!entry) {
      const pending = this.pending.get(client);
      if (!pending) return undefined;
      return pending.then((session) =>
        session ? this.verifyClient(client)! : { valid: false, reason: 'unknown' as const },
      );
    }
    const local = this.sessions.verifyLocally(entry.token);
    const settle = (result: ValidationResult) => {
      if (result.valid) {
        entry.session = result.session;
        (client as { session?: Session }).session = result.session;
      } else this.end(client as GatewayClient, `session ${result.reason}`);
      return result;
    };
    return local ? settle(local) : this.sessions.verify(entry.token).then(settle);
  }

  /** Connections currently authenticated on this instance. */
  get connections(): number {
    return this.live.size;
  }

  private tokenOf(
    client: GatewayClient,
    handshake: { headers: IncomingSessionRequest['headers'] },
  ): ReturnType<typeof extractToken> {
    const payload = isSocketIo(client) ? client.handshake.auth?.token : undefined;
    if (typeof payload === 'string' && payload.length > 0)
      return { token: payload, source: 'header' };
    return extractToken(handshake, this.options);
  }

  private async recheckAll(): Promise<void> {
    for (const client of [...this.live]) {
      try {
        await this.verifyClient(client);
      } catch {
        // Redis unavailable: keep the connection until it answers (the cache bound still holds
        // for messages, which the guard re-checks).
      }
    }
  }

  private refuse(client: GatewayClient, reason: string): null {
    this.logger.debug(`Connection refused: ${reason}`);
    closeClient(client, reason);
    return null;
  }

  private end(client: GatewayClient, reason: string): void {
    this.forget(client);
    closeClient(client, reason);
  }

  private forget(client: GatewayClient): void {
    this.byClient.get(client)?.revoked.unsubscribe();
    this.byClient.delete(client);
    this.live.delete(client);
  }
}
