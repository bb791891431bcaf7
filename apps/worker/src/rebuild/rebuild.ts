/**
 * Recomputes the projections from the retained streams, safely while traffic flows and the
 * worker runs (see projection-reconcile.ts and projection-check.ts).
 *
 *   npm run worker:rebuild -- --check   compare the live indexes with a replay up to a snapshot of
 *                                       the stream positions; exit 1 on differences
 *   npm run worker:rebuild              settle every session the events or the indexes name (index,
 *                                       expire, drop), re-enforce the limits, then check
 *   --wait-seconds=N                    how long the check waits for the worker to apply the events
 *                                       up to its snapshot (default 30; it reports workerCaughtUp)
 *
 * Configuration comes from the same environment variables as the worker, read by the same code.
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { ConfigError, sessionOptionsFromEnv } from '@app/config';
import { DeploymentMismatchError, SessionModule, SessionStore } from '@app/session';
import { SessionLimitService } from '../projections/session-limit.service';
import { createCommandContext } from '../command-line';
import { loadWorkerConfig, WORKER_CONFIG, type WorkerConfig } from '../worker.config';
import { checkProjections } from './projection-check';
import { progressBar } from './progress-bar';
import { reconcileProjections } from './projection-reconcile';

function rebuildModule(config: WorkerConfig) {
  @Module({
    imports: [
      SessionModule.forRoot({ ...sessionOptionsFromEnv(config), cache: { enabled: false } }),
    ],
    providers: [{ provide: WORKER_CONFIG, useValue: config }, SessionLimitService],
  })
  class RebuildModule {}
  return RebuildModule;
}

/** `--wait-seconds=N`: how long the check waits for the worker to reach its snapshot (30). */
function waitSeconds(): number {
  const option = process.argv.find((arg) => arg.startsWith('--wait-seconds='));
  const seconds = option ? Number(option.slice('--wait-seconds='.length)) : 30;
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 3600)
    throw new RangeError(`--wait-seconds must be an integer from 0 to 3600 (got ${option})`);
  return seconds;
}

async function main(): Promise<number> {
  const check = process.argv.includes('--check');
  const config = loadWorkerConfig();
  const app = await createCommandContext('worker:rebuild', rebuildModule(config), config);
  try {
    const store = app.get(SessionStore);
    if (!check) {
      const rebuilt = await reconcileProjections(
        store,
        app.get(SessionLimitService),
        progressBar('rebuild'),
      );
      console.log(JSON.stringify({ mode: 'rebuild', ...rebuilt }));
    }
    const report = await checkProjections(store, {
      onProgress: progressBar('check'),
      waitForWorkerMs: waitSeconds() * 1000,
    });
    console.log(
      JSON.stringify(
        {
          mode: 'check',
          ...report,
          differences: report.differences.slice(0, 100),
          differenceCount: report.differences.length,
        },
        null,
        2,
      ),
    );
    return report.differences.length === 0 ? 0 : 1;
  } finally {
    await app.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(
      error instanceof ConfigError ||
        error instanceof DeploymentMismatchError ||
        error instanceof RangeError
        ? error.message
        : error,
    );
    process.exit(2);
  },
);
