/**
 * Recomputes the projections from the retained streams.
 *
 *   npm run worker:rebuild -- --check   compare the live indexes with a replay; exit 1 on differences
 *   npm run worker:rebuild              clear the indexes and rebuild them by replaying every event
 *                                       through the worker's own (idempotent) projection scripts
 *
 * Configuration comes from the same environment variables as the worker.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Module } from '@nestjs/common';
import { ConfigError, sessionRedisConfig } from '@app/config';
import { parseSessionEvent, SessionIndex, SessionModule, SessionStore } from '@app/session';
import { loadWorkerConfig } from '../worker.config';
import { checkProjections } from './projection-check';
import { progressBar } from './progress-bar';

async function rebuild(store: SessionStore, index: SessionIndex): Promise<number> {
  // Every master of a cluster: the user indexes are spread over them.
  await store.clearProjections();
  const total = await store.retainedEventCount();
  const progress = progressBar('rebuild');
  let done = 0;
  for (const stream of store.eventStreams()) {
    let after = '-';
    for (;;) {
      const entries = await store.readEvents(stream, after, 1000);
      for (const { id, json } of entries) {
        after = id;
        done++;
        let event;
        try {
          event = parseSessionEvent(JSON.parse(json ?? ''));
        } catch {
          continue;
        }
        if (event.type === 'session.created')
          await index.indexSession(event.sessionId, event.userId);
        else if (event.type === 'session.rotated')
          await index.indexSession(event.sessionId, event.userId, event.previousSessionId);
        else if (event.type === 'session.revoked' || event.type === 'session.expired')
          await index.unindexSession(event.sessionId, event.userId);
        else if (event.type === 'user.revoked')
          await index.purgeRevokedSessions(
            event.userId,
            event.revokedBefore,
            event.exceptSessionId,
          );
      }
      progress(done, total);
      if (entries.length < 1000) break;
    }
  }
  return done;
}

async function main(): Promise<number> {
  const check = process.argv.includes('--check');
  const config = loadWorkerConfig();
  @Module({
    imports: [
      SessionModule.forRoot({
        redis: sessionRedisConfig(config),
        keyPrefix: config.sessionPrefix,
        idleTtlSeconds: config.idleTtlSeconds,
        absoluteTtlSeconds: config.absoluteTtlSeconds,
        streamPartitions: config.streamPartitions,
        cache: { enabled: false },
      }),
    ],
  })
  class RebuildModule {}
  const app = await NestFactory.createApplicationContext(RebuildModule, {
    logger: ['warn', 'error'],
  });
  try {
    const store = app.get(SessionStore);
    if (!check) {
      const events = await rebuild(store, app.get(SessionIndex));
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
