import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  NotFoundException,
  Param,
  Patch,
  Post,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBody,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import {
  CurrentSession,
  InvalidSessionIdError,
  type Session,
  SessionCookies,
  type SessionRequest,
  SessionService,
  type CookieResponse,
} from '@app/session';
import { ApiError, ApiSessionAuth } from '../docs/api-docs';
import { MetricsService } from '../metrics/metrics.service';
import { SessionWriteRateLimit } from './session-write-rate-limit.guard';
import {
  parseUpdateBody,
  RevokedCountDto,
  SessionDataResponseDto,
  SessionListItemDto,
  UpdateSessionDataDto,
} from './sessions.dto';

const NOT_FOUND = 'Session not found';

@ApiTags('sessions')
@Controller('sessions')
export class SessionsController {
  constructor(
    private readonly sessions: SessionService,
    private readonly cookies: SessionCookies,
    private readonly metrics: MetricsService,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'The caller’s live sessions (devices), newest first',
    description:
      'Read from the per-user index the worker keeps: a session opened a few milliseconds ago may not be listed yet.',
  })
  @ApiSessionAuth()
  @ApiOkResponse({ type: SessionListItemDto, isArray: true })
  async list(@CurrentSession() session: Session): Promise<SessionListItemDto[]> {
    const items: SessionListItemDto[] = [];
    let cursor: string | null = null;
    do {
      const page = await this.sessions.listForUser(session.userId, { limit: 100, cursor });
      for (const s of page.sessions) {
        items.push({
          sessionId: s.sessionId,
          createdAt: s.createdAt,
          lastAccessedAt: s.lastAccessedAt,
          expiresAt: s.expiresAt,
          userAgent: s.userAgent,
          ip: s.ip,
          current: s.sessionId === session.sessionId,
        });
      }
      cursor = page.nextCursor;
    } while (cursor !== null && items.length < 1000);
    return items;
  }

  @Patch('current')
  @UseGuards(SessionWriteRateLimit)
  @ApiError(429, 'Too many changes to this session this minute (SESSION_WRITE_RATE_LIMIT)')
  @ApiOperation({ summary: 'Merge keys into the current session’s data' })
  @ApiSessionAuth({ csrf: true })
  @ApiBody({ type: UpdateSessionDataDto })
  @ApiOkResponse({ type: SessionDataResponseDto, description: 'The merged data' })
  @ApiError(
    400,
    'Not { data: {...} }, a forbidden key (password, card number…) or a server-owned key (roles)',
  )
  @ApiError(413, 'Data over the size limit')
  async update(
    @CurrentSession() session: Session,
    @Body() body: unknown,
  ): Promise<SessionDataResponseDto> {
    return { data: await this.sessions.update(session.sessionId, parseUpdateBody(body)) };
  }

  @Delete(':sessionId')
  @UseGuards(SessionWriteRateLimit)
  @ApiError(429, 'Too many changes to this session this minute (SESSION_WRITE_RATE_LIMIT)')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Revoke one of the caller’s own sessions' })
  @ApiSessionAuth({ csrf: true })
  @ApiParam({ name: 'sessionId', description: 'Public session handle' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiError(404, 'No such live session of the caller (whoever else it may belong to)')
  async revoke(
    @Param('sessionId') sessionId: string,
    @CurrentSession() session: Session,
    @Req() request: SessionRequest,
    @Res({ passthrough: true }) response: CookieResponse,
  ): Promise<void> {
    let revoked: boolean;
    try {
      revoked = await this.sessions.revoke(sessionId, 'revoked', { userId: session.userId });
    } catch (error) {
      // A malformed id is answered like an unknown one.
      if (error instanceof InvalidSessionIdError) throw new NotFoundException(NOT_FOUND);
      throw error;
    }
    if (!revoked) throw new NotFoundException(NOT_FOUND);
    this.metrics.revoked('session');
    if (sessionId === session.sessionId && request.sessionAuth === 'cookie')
      this.cookies.clear(response);
  }

  @Post('revoke-others')
  @UseGuards(SessionWriteRateLimit)
  @ApiError(429, 'Too many changes to this session this minute (SESSION_WRITE_RATE_LIMIT)')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Revoke every other session of the caller; the current one stays' })
  @ApiSessionAuth({ csrf: true })
  @ApiOkResponse({ type: RevokedCountDto })
  async revokeOthers(@CurrentSession() session: Session): Promise<RevokedCountDto> {
    const revoked = await this.sessions.revokeOthers(session.userId, session.sessionId);
    this.metrics.revoked('others');
    return { revoked };
  }
}
