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
import type { Cluster, Redis } from 'ioredis';
import { ConfigError, sessionRedisConfig } from '@app/config';
import {
  parseSessionEvent,
  SESSION_REDIS,
  SessionIndex,
  SessionModule,
  SessionService,
} from '@app/session';
import { loadWorkerConfig } from '../worker.config';
import { checkProjections } from './projection-check';
import { progressBar } from './progress-bar';

async function rebuild(
  redis: Redis | Cluster,
  sessions: SessionService,
  index: SessionIndex,
): Promise<number> {
  const keys = sessions.keys;
  for (let partition = 0; partition < keys.partitions; partition++)
    await redis.del(keys.expiryIndex(partition));
  let cursor = '0';
  do {
    const [next, batch] = await (redis as Redis).scan(
      cursor,
      'MATCH',
      `${keys.prefix}:{p*}:user-sessions:*`,
      'COUNT',
      1000,
    );
    if (batch.length > 0) for (const key of batch) await redis.del(key);
    cursor = next;
  } while (cursor !== '0');

  const streams = keys.allEventStreams();
  const total = (await Promise.all(streams.map((s) => redis.xlen(s)))).reduce((a, b) => a + b, 0);
  const progress = progressBar('rebuild');
  let done = 0;
  for (const stream of streams) {
    let start = '-';
    for (;;) {
      const entries = await redis.xrange(stream, start, '+', 'COUNT', 1000);
      for (const [id, fields] of entries) {
        start = `(${id}`;
        done++;
        let event;
        try {
          event = parseSessionEvent(JSON.parse(fields[fields.indexOf('data') + 1]));
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
    const redis = app.get<Redis | Cluster>(SESSION_REDIS);
    const sessions = app.get(SessionService);
    if (!check) {
      const events = await rebuild(redis, sessions, app.get(SessionIndex));
      console.log(JSON.stringify({ mode: 'rebuild', events }));
    }
    const report = await checkProjections(redis, sessions.keys, progressBar('check'));
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
