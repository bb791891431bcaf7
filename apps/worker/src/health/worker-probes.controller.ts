import { Controller, Get } from '@nestjs/common';
import { answerProbe, ProcessLiveness, probeReport, type ProbeReport } from '@app/config';
import { SessionHealth } from '@app/session';
import { ConsumerState } from './consumer-state';

/**
 * /health/live (the event loop keeps time, no shutdown started) and /health/ready (Redis answers,
 * the deployment settings were accepted, the consumer group is being read, no shutdown started);
 * a 503 body names the first check that fails. /health is unchanged.
 */
@Controller('health')
export class WorkerProbesController {
  constructor(
    private readonly liveness: ProcessLiveness,
    private readonly session: SessionHealth,
    private readonly consumer: ConsumerState,
  ) {}

  @Get('live')
  live(): ProbeReport {
    return answerProbe(this.liveness.live());
  }

  @Get('ready')
  async ready(): Promise<ProbeReport> {
    // During the drain that is the answer, at once: no Redis round trip to wait for.
    const shutdown = this.liveness.shutdownProblem;
    if (shutdown) return answerProbe(probeReport({ shutdown }));
    // The worker validates no tokens: the invalidation subscriber is not its concern.
    const { redis, deploymentSettings } = await this.session.readiness();
    return answerProbe(
      probeReport({
        shutdown,
        redis,
        deploymentSettings,
        consumer: this.consumer.reading ? null : 'consumer group not being read',
      }),
    );
  }
}
