import type { INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { armShutdownDeadline, createRootLogger, PinoNestLogger } from '@app/config';
import type { WorkerConfig } from './worker.config';

/**
 * What every command-line tool of the worker shares with the worker itself: the one logging setup
 * (LOG_LEVEL, JSON lines or human-readable in development, on stderr since stdout carries the
 * tool's report) and a bounded stop on SIGTERM/SIGINT: the context is closed (Redis connections
 * too) and the process exits 143/130, within WORKER_SHUTDOWN_TIMEOUT_MS whatever Redis does.
 * What the tool did before the signal stays (every write is one script); running it again
 * finishes the job.
 */
export async function createCommandContext(
  name: string,
  module: Type,
  config: WorkerConfig,
): Promise<INestApplicationContext> {
  const root = createRootLogger(config, {}, 'stderr');
  const app = await NestFactory.createApplicationContext(module, {
    logger: new PinoNestLogger(root),
  });
  // Not Nest's shutdown hooks: they end in exit code 0, which would read as "done, no difference".
  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    process.once(signal, () => {
      root.warn(
        `${name} interrupted by ${signal}: what it did so far stays; run it again to finish`,
      );
      void app.close().finally(() => process.exit(code));
    });
  }
  armShutdownDeadline(config.shutdownTimeoutMs, (message) => root.error(message));
  root.info(`${name} running; SIGTERM or SIGINT stops it within ${config.shutdownTimeoutMs} ms`);
  return app;
}
