import { Controller, Delete, HttpCode, HttpStatus, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { Roles, SessionService } from '@app/session';
import { ApiError, ApiSessionAuth } from '../docs/api-docs';
import { MetricsService } from '../metrics/metrics.service';
import { RevokedCountDto } from '../sessions/sessions.dto';

@ApiTags('admin')
@Controller('admin')
@Roles('admin')
export class AdminController {
  constructor(
    private readonly sessions: SessionService,
    private readonly metrics: MetricsService,
  ) {}

  @Delete('users/:userId/sessions')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Revoke every session of a user (role admin)' })
  @ApiSessionAuth({ csrf: true })
  @ApiParam({ name: 'userId' })
  @ApiOkResponse({ type: RevokedCountDto })
  @ApiError(400, 'Malformed user id')
  @ApiError(403, 'The caller lacks the admin role (or the CSRF token)')
  async revokeUser(@Param('userId') userId: string): Promise<RevokedCountDto> {
    const revoked = await this.sessions.revokeAllForUser(userId);
    this.metrics.revoked('admin');
    return { revoked };
  }
}
