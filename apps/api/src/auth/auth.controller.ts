import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Inject,
  Post,
  Req,
  Res,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBody,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import {
  CurrentSession,
  Public,
  type ResolvedSessionOptions,
  SESSION_OPTIONS,
  type Session,
  SessionCookies,
  type SessionRequest,
  SessionService,
  SkipCsrf,
  type CookieResponse,
} from '@app/session';
import { ApiError, ApiSessionAuth } from '../docs/api-docs';
import { clientIp } from '../http/client-ip';
import { CrossSiteRequests } from '../http/cross-site-requests';
import type { HttpRequest } from '../http/http-request';
import { MetricsService } from '../metrics/metrics.service';
import { UsersRepository } from '../users/users.repository';
import {
  LoginRequestDto,
  LoginResponseDto,
  MeResponseDto,
  parseLoginBody,
  RotateResponseDto,
} from './auth.dto';
import { RateLimitedError } from '../rate-limit/rate-limited.error';
import { SessionWriteRateLimit } from '../sessions/session-write-rate-limit.guard';
import { LoginRateLimiter } from './login-rate-limiter';

/** One message for an unknown user and a wrong password, so neither can be told apart. */
export const INVALID_CREDENTIALS = 'Invalid user id or password';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly sessions: SessionService,
    private readonly cookies: SessionCookies,
    private readonly users: UsersRepository,
    private readonly rateLimiter: LoginRateLimiter,
    private readonly crossSite: CrossSiteRequests,
    private readonly metrics: MetricsService,
    @Inject(SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
  ) {}

  @Public()
  @SkipCsrf()
  @Post('login')
  @ApiOperation({
    summary: 'Log in: creates a session and sets the session cookie (ends the one it held)',
  })
  @ApiBody({ type: LoginRequestDto })
  @ApiCreatedResponse({
    type: LoginResponseDto,
    description: 'Also sets the session cookie (__Host-session_id when Secure)',
  })
  @ApiError(400, 'Malformed body')
  @ApiError(401, 'Wrong user id or password')
  @ApiError(403, 'Sent by a browser from another site (Origin / Sec-Fetch-Site)')
  @ApiError(413, 'Body too large')
  @ApiError(
    429,
    'Too many failed logins for this user id from this address, from this address, or for this user id',
  )
  @ApiError(503, 'Session store unavailable')
  async login(
    @Body() body: unknown,
    @Req() request: HttpRequest & SessionRequest,
    @Res({ passthrough: true }) response: CookieResponse,
  ): Promise<LoginResponseDto> {
    this.crossSite.check(request);
    const { userId, password } = parseLoginBody(body);
    const ip = clientIp(request);
    const attempt = await this.rateLimiter.attempt(userId, ip);
    if (!attempt.allowed) {
      this.metrics.rateLimited(attempt.scope);
      throw new RateLimitedError('Too many login attempts, try again later', attempt.retryAfterMs);
    }
    const user = await this.users.verifyCredentials(userId, password);
    if (!user) {
      this.metrics.login('failed');
      throw new UnauthorizedException(INVALID_CREDENTIALS);
    }
    await this.rateLimiter.succeeded(attempt);
    const roles = [...user.roles];
    const created = await this.sessions.create(
      user.userId,
      { roles },
      { userAgent: request.headers['user-agent'] ?? '', ip },
    );
    await this.endReplacedSession(request);
    this.cookies.set(response, created);
    this.metrics.login('ok');
    return {
      sessionId: created.sessionId,
      token: created.token,
      userId: user.userId,
      roles,
      expiresAt: created.expiresAt,
      csrfToken: created.csrfToken,
    };
  }

  /**
   * A browser that logs in while its cookie holds a live session replaces that session: it is
   * ended, not left alive without a cookie pointing at it (and a fixed or planted session cannot
   * outlive the login). Header and bearer clients may hold several sessions on purpose.
   */
  private async endReplacedSession(request: SessionRequest): Promise<void> {
    const old = request.session;
    if (!old || request.sessionAuth !== 'cookie') return;
    if (await this.sessions.revoke(old.sessionId, 'logout', { userId: old.userId })) {
      this.metrics.revoked('logout');
    }
  }

  @Get('me')
  @ApiOperation({ summary: 'The current session' })
  @ApiSessionAuth()
  @ApiOkResponse({ type: MeResponseDto })
  me(@CurrentSession() session: Session): MeResponseDto {
    return {
      userId: session.userId,
      sessionId: session.sessionId,
      roles: this.options.resolveRoles(session),
      data: session.data,
      createdAt: session.createdAt,
      lastAccessedAt: session.lastAccessedAt,
      expiresAt: session.expiresAt,
      absoluteExpiresAt: session.absoluteExpiresAt,
      csrfToken: session.csrfToken,
    };
  }

  @Post('logout')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Log out: revokes the current session and clears the cookie' })
  @ApiSessionAuth({ csrf: true })
  @ApiNoContentResponse({ description: 'Session revoked, cookie cleared' })
  async logout(
    @CurrentSession() session: Session,
    @Res({ passthrough: true }) response: CookieResponse,
  ): Promise<void> {
    if (await this.sessions.revoke(session.sessionId, 'logout', { userId: session.userId })) {
      this.metrics.revoked('logout');
    }
    this.cookies.clear(response);
  }

  @Post('rotate')
  @UseGuards(SessionWriteRateLimit)
  @ApiError(429, 'Too many changes to this session this minute (SESSION_WRITE_RATE_LIMIT)')
  @ApiOperation({
    summary: 'Rotate the token: new session id, token and CSRF token; the old token dies at once',
  })
  @ApiSessionAuth({ csrf: true })
  @ApiCreatedResponse({
    type: RotateResponseDto,
    description: 'The cookie is replaced when the request used it',
  })
  @ApiError(404, 'The session ended meanwhile')
  async rotate(
    @Req() request: HttpRequest & SessionRequest,
    @Res({ passthrough: true }) response: CookieResponse,
  ): Promise<RotateResponseDto> {
    if (!request.sessionToken) throw new UnauthorizedException('No session');
    const rotated = await this.sessions.rotate(request.sessionToken);
    // The same absolute end as before: rotation renews the token, not the session's lifetime.
    if (request.sessionAuth === 'cookie') this.cookies.set(response, rotated);
    this.metrics.rotations.inc();
    return { sessionId: rotated.sessionId, token: rotated.token, csrfToken: rotated.csrfToken };
  }
}
