import { Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

/**
 * Prometheus metrics: the registry and counters (MetricsService) and GET /metrics. The HTTP
 * middleware (http-metrics.middleware.ts) is mounted by the app module, ahead of the body parser,
 * so that refused bodies are counted too.
 */
@Module({
  controllers: [MetricsController],
  providers: [MetricsService],
  exports: [MetricsService],
})
export class MetricsModule {}
