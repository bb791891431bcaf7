import type { INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { armShutdownDeadline, createRootLogger, PinoNestLogger } from '@app/config';
import type { Logger } from 'pino';
import type { WorkerConfig } from './worker.config';

/**
 * What every command-line tool of the worker shares with the worker itself: the one logging setup
 * (LOG_LEVEL, JSON lines or human-readable in development, on stderr since stdout carries the
 * tool's report) and a bounded stop on SIGTERM/SIGINT.
 */
export function commandLogger(config: WorkerConfig): Logger {
  return createRootLogger(config, {}, 'stderr');
}

/**
 * On SIGTERM/SIGINT: says so, runs `close` (the Redis connections) and exits 143/130, within
 * WORKER_SHUTDOWN_TIMEOUT_MS whatever Redis does. What the tool did before the signal stays
 * (every write is one script); running it again finishes the job. Not Nest's shutdown hooks:
 * they end in exit code 0, which would read as "done, no difference".
 */
export function stopOnSignals(
  name: string,
  config: WorkerConfig,
  root: Logger,
  close: () => Promise<unknown>,
): void {
  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    process.once(signal, () => {
      root.warn(
        `${name} interrupted by ${signal}: what it did so far stays; run it again to finish`,
      );
      void close().finally(() => process.exit(code));
    });
  }
  armShutdownDeadline(config.shutdownTimeoutMs, (message) => root.error(message));
  root.info(`${name} running; SIGTERM or SIGINT stops it within ${config.shutdownTimeoutMs} ms`);
}

/** A Nest application context for a tool: the one logger, and stopOnSignals. */
export async function createCommandContext(
  name: string,
  module: Type,
  config: WorkerConfig,
): Promise<INestApplicationContext> {
  const root = commandLogger(config);
  const app = await NestFactory.createApplicationContext(module, {
    logger: new PinoNestLogger(root),
  });
  stopOnSignals(name, config, root, () => app.close());
  return app;
}
