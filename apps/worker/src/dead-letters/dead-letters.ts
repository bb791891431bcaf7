/**
 * Inspects and replays the dead-letter streams (`<prefix>:{p<N>}:events:dead`).
 *
 *   npm run worker:dead-letters -- list [--partition N] [--reason R] [--limit N]
 *   npm run worker:dead-letters -- replay [--partition N] [--id ID]... [--reason R] [--pattern P] [--limit N]
 *
 * `list` prints the count per partition and the letters (oldest first, 100 unless --limit).
 * `replay` puts the selected letters back on their partition stream (after a fix: a release that
 * reads them, a bug mended) and removes them from the dead-letter stream; the running workers
 * apply them like any event (a replayed event that fails again is dead-lettered again).
 * Configuration comes from the same environment variables as the worker.
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cluster, Redis } from 'ioredis';
import { ConfigError, sessionOptionsFromEnv } from '@app/config';
import { SessionModule, SessionStore } from '@app/session';
import { type DeadLetter, listDeadLetters, replayDeadLetters } from '@app/streams';
import { loadWorkerConfig, type WorkerConfig } from '../worker.config';
import {
  type DeadLetterCommand,
  DeadLetterUsageError,
  parseDeadLetterArgs,
} from './dead-letter-args';

const DEFAULT_LIST_LIMIT = 100;

function deadLettersModule(config: WorkerConfig) {
  // The session module checks the deployment (partition count) and names the keys.
  @Module({
    imports: [
      SessionModule.forRoot({ ...sessionOptionsFromEnv(config), cache: { enabled: false } }),
    ],
  })
  class DeadLettersModule {}
  return DeadLettersModule;
}

function connect(config: WorkerConfig): Redis | Cluster {
  return config.redisClusterNodes
    ? new Cluster(config.redisClusterNodes)
    : new Redis(config.redisUrl, { maxRetriesPerRequest: 3 });
}

async function run(
  command: DeadLetterCommand,
  store: SessionStore,
  redis: Redis | Cluster,
): Promise<Record<string, unknown>> {
  const streams = store
    .eventStreams()
    .map((stream, partition) => ({ partition, stream, dead: store.keys.deadLetters(stream) }))
    .filter(({ partition }) => command.partition === undefined || partition === command.partition);
  if (command.action === 'list') {
    const partitions: { partition: number; count: number }[] = [];
    const letters: (DeadLetter & { partition: number })[] = [];
    const limit = command.limit ?? DEFAULT_LIST_LIMIT;
    for (const { partition, stream, dead } of streams) {
      const count = await store.deadLetterCount(stream);
      if (count > 0) partitions.push({ partition, count });
      if (letters.length >= limit || count === 0) continue;
      for (const letter of await listDeadLetters(redis, dead)) {
        if (command.reason !== undefined && letter.reason !== command.reason) continue;
        if (command.pattern !== undefined && letter.pattern !== command.pattern) continue;
        if (command.ids.length > 0 && !command.ids.includes(letter.id)) continue;
        if (letters.length < limit) letters.push({ partition, ...letter });
      }
    }
    const total = partitions.reduce((sum, p) => sum + p.count, 0);
    return { action: 'list', total, partitions, letters };
  }
  const replayed: { partition: number; id: string; originalId: string; pattern: string }[] = [];
  for (const { partition, dead } of streams) {
    const left = (command.limit ?? Number.POSITIVE_INFINITY) - replayed.length;
    if (left <= 0) break;
    const letters = await replayDeadLetters(redis, dead, {
      ids: command.ids.length > 0 ? command.ids : undefined,
      reason: command.reason,
      pattern: command.pattern,
      limit: left,
    });
    for (const { id, originalId, pattern } of letters)
      replayed.push({ partition, id, originalId, pattern });
  }
  return { action: 'replay', replayedCount: replayed.length, replayed };
}

async function main(): Promise<number> {
  const config = loadWorkerConfig();
  const command = parseDeadLetterArgs(process.argv.slice(2), config.streamPartitions);
  const app = await NestFactory.createApplicationContext(deadLettersModule(config), {
    logger: ['warn', 'error'],
  });
  const redis = connect(config);
  try {
    const report = await run(command, app.get(SessionStore), redis);
    console.log(JSON.stringify(report, null, 2));
    return 0;
  } finally {
    redis.disconnect();
    await app.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    const known = error instanceof ConfigError || error instanceof DeadLetterUsageError;
    console.error(known ? error.message : error);
    process.exit(2);
  },
);
