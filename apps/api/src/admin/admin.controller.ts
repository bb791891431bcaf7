import {
  Controller,
  Delete,
  HttpCode,
  HttpStatus,
  NotFoundException,
  Param,
  UseGuards,
} from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Roles, SessionService } from '@app/session';
import { ApiError, ApiSessionAuth } from '../docs/api-docs';
import { MetricsService } from '../metrics/metrics.service';
import { SessionWriteRateLimit } from '../sessions/session-write-rate-limit.guard';
import { RevokedCountDto } from '../sessions/sessions.dto';
import { UsersRepository } from '../users/users.repository';

@ApiTags('admin')
@Controller('admin')
@Roles('admin')
export class AdminController {
  constructor(
    private readonly sessions: SessionService,
    private readonly metrics: MetricsService,
    private readonly users: UsersRepository,
  ) {}

  @Delete('users/:userId/sessions')
  @UseGuards(SessionWriteRateLimit)
  @ApiError(429, 'Too many changes to this session this minute (SESSION_WRITE_RATE_LIMIT)')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Revoke every session of a user (role admin)' })
  @ApiSessionAuth({ csrf: true })
  @ApiParam({ name: 'userId' })
  @ApiOkResponse({ type: RevokedCountDto })
  @ApiError(400, 'Malformed user id')
  @ApiError(403, 'The caller lacks the admin role (or the CSRF token)')
  @ApiError(404, 'No such user, and no session of that user id in the index')
  async revokeUser(@Param('userId') userId: string): Promise<RevokedCountDto> {
    // A revoke-all writes an epoch for the user id: none for ids nobody can hold a session of,
    // so the route cannot be used to fill Redis. A user removed from USERS_FILE may still have
    // live sessions: those are found in the index and can still be ended.
    if (!this.users.has(userId) && !(await this.hasIndexedSessions(userId))) {
      throw new NotFoundException('No such user');
    }
    const revoked = await this.sessions.revokeAllForUser(userId);
    this.metrics.revoked('admin');
    return { revoked };
  }

  private async hasIndexedSessions(userId: string): Promise<boolean> {
    return (await this.sessions.listForUser(userId, { limit: 1 })).sessions.length > 0;
  }
}
