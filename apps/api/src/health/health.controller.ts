import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { Public } from '@app/session';
import { RedisHealthIndicator } from './redis.health';

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redis: RedisHealthIndicator,
  ) {}

  @Public({ attachSession: false })
  @Get()
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: 200 when Redis answers PING in time, else 503' })
  check() {
    return this.health.check([() => this.redis.check('redis')]);
  }
}
