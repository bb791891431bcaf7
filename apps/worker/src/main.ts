import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { armShutdownDeadline, ConfigError, createRootLogger, PinoNestLogger } from '@app/config';
import { DeploymentMismatchError } from '@app/session';
import type { RedisStreamsServer } from '@app/streams';
import { loadWorkerConfig } from './worker.config';
import { WORKER_STREAMS_SERVER } from './worker.constants';
import { WorkerModule } from './worker.module';

/** The worker: a Nest microservice on our Redis Streams transport, plus /health and /metrics. */
async function bootstrap(): Promise<void> {
  const config = loadWorkerConfig();
  // The same logging as the api: JSON lines (human-readable in development), LOG_LEVEL.
  const root = createRootLogger(config);
  const app = await NestFactory.create(WorkerModule.forConfig(config), {
    logger: new PinoNestLogger(root),
  });
  // Exit code 0 after a clean stop (process.exit(), 'exit' handlers run) rather than death by
  // the re-raised signal: a supervisor tells a clean stop from a crash by the code.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  armShutdownDeadline(config.shutdownTimeoutMs, (message) => root.error(message));
  app.connectMicroservice(
    { strategy: app.get<RedisStreamsServer>(WORKER_STREAMS_SERVER) },
    { inheritAppConfig: true },
  );
  // Start-up checks (options, the deployment's partition count) run before the consumer reads
  // or creates anything: startAllMicroservices() alone would start it before the module hooks.
  await app.init();
  // Health first, so it answers while the consumer connects (/health/ready 503 until it reads);
  // loopback unless WORKER_HOST says otherwise.
  await app.listen(config.port, config.host);
  Logger.log(`Worker ${config.consumerName}: health on ${config.host}:${config.port}`, 'Worker');
  try {
    await app.startAllMicroservices();
  } catch (error) {
    // The consumer does not wait for a Redis it cannot reach at start: exit 1, and the
    // orchestrator restarts the worker (with its back-off) until Redis is there.
    root.error(`Cannot start consuming: ${(error as Error).message}; exiting`);
    throw error;
  }
  Logger.log(
    `Worker ${config.consumerName} consuming ${config.streamPartitions} partitions`,
    'Worker',
  );
}

bootstrap().catch((error: unknown) => {
  // A configuration error, or settings unlike the deployment's, is the operator's to fix: one
  // line naming the variable or the setting, without a stack.
  console.error(
    error instanceof ConfigError || error instanceof DeploymentMismatchError
      ? error.message
      : error,
  );
  process.exit(1);
});
