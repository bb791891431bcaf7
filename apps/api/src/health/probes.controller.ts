import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { answerProbe, ProcessLiveness, probeReport, type ProbeReport } from '@app/config';
import { Public, SessionHealth } from '@app/session';

/**
 * The orchestrator's two questions, apart: /health/live (restart me if this fails: the event loop
 * keeps time and the process is not shutting down) and /health/ready (send me traffic: Redis
 * answers, revocations of other instances are heard, the deployment settings were accepted, and
 * no shutdown has started). A 503 body names the first check that fails. /health is unchanged.
 */
@ApiTags('operations')
@Controller('health')
export class ProbesController {
  constructor(
    private readonly liveness: ProcessLiveness,
    private readonly session: SessionHealth,
  ) {}

  @Public({ attachSession: false })
  @Get('live')
  @ApiOperation({ summary: 'Liveness: 200 while the process works, 503 once it shuts down' })
  @ApiResponse({ status: 503, description: '{ status: "error", reason, checks }' })
  live(): ProbeReport {
    return answerProbe(this.liveness.live());
  }

  @Public({ attachSession: false })
  @Get('ready')
  @ApiOperation({
    summary:
      'Readiness: 200 when Redis, the invalidation subscriber and the deployment settings are fine; 503 from SIGTERM on',
  })
  @ApiResponse({ status: 503, description: '{ status: "error", reason, checks }' })
  async ready(): Promise<ProbeReport> {
    // During the drain that is the answer, at once: no Redis round trip to wait for.
    const shutdown = this.liveness.shutdownProblem;
    if (shutdown) return answerProbe(probeReport({ shutdown }));
    return answerProbe(probeReport({ shutdown, ...(await this.session.readiness()) }));
  }
}
