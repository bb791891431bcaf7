/**
 * Recomputes the projections from the retained streams.
 *
 *   npm run worker:rebuild -- --check   compare the live indexes with a replay; exit 1 on differences
 *   npm run worker:rebuild              clear the indexes and rebuild them by applying every event
 *                                       through the worker's own projections (SessionProjections)
 *
 * Configuration comes from the same environment variables as the worker, read by the same code.
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { ConfigError, sessionOptionsFromEnv } from '@app/config';
import { SessionModule, SessionStore } from '@app/session';
import { SessionLimitService } from '../projections/session-limit.service';
import { SessionProjections } from '../projections/session-projections';
import { createCommandContext } from '../command-line';
import { loadWorkerConfig, WORKER_CONFIG, type WorkerConfig } from '../worker.config';
import { checkProjections } from './projection-check';
import { progressBar } from './progress-bar';
import { forEachRetainedEvent } from './retained-events';

async function rebuild(store: SessionStore, projections: SessionProjections): Promise<number> {
  // Every master of a cluster: the user indexes are spread over them.
  await store.clearProjections();
  const { events } = await forEachRetainedEvent(
    store,
    (event) => projections.apply(event),
    progressBar('rebuild'),
  );
  return events;
}

function rebuildModule(config: WorkerConfig) {
  @Module({
    imports: [
      SessionModule.forRoot({ ...sessionOptionsFromEnv(config), cache: { enabled: false } }),
    ],
    providers: [
      { provide: WORKER_CONFIG, useValue: config },
      SessionLimitService,
      SessionProjections,
    ],
  })
  class RebuildModule {}
  return RebuildModule;
}

async function main(): Promise<number> {
  const check = process.argv.includes('--check');
  const config = loadWorkerConfig();
  const app = await createCommandContext('worker:rebuild', rebuildModule(config), config);
  try {
    const store = app.get(SessionStore);
    if (!check) {
      const events = await rebuild(store, app.get(SessionProjections));
      console.log(JSON.stringify({ mode: 'rebuild', events }));
    }
    const report = await checkProjections(store, progressBar('check'));
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
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(2);
  },
);
