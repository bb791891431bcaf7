export { RedisStreamsClient } from './client-redis-streams';
export {
  type DeadLetter,
  type DeadLetterSelection,
  listDeadLetters,
  REPLAY_OF_FIELD,
  replayDeadLetters,
} from './dead-letters';
export { keySlot } from './redis-streams.cluster';
export { readEntries, type ReadEntriesOptions, type StreamEntry } from './read-entries';
export {
  DATA_FIELD,
  defaultDeadLetterStream,
  PATTERN_FIELD,
  REDIS_STREAMS_DEFAULTS,
  REDIS_STREAMS_TRANSPORT,
} from './redis-streams.constants';
export { RedisStreamsContext } from './redis-streams.context';
export {
  DeadLetterAbortedError,
  RedisStreamsConfigError,
  RedisStreamsPermanentError,
} from './redis-streams.errors';
export {
  RedisStreamsEventsMap,
  RedisStreamsStatus,
  type RedisStreamsConnectionRole,
  type RedisStreamsEvents,
} from './redis-streams.events';
export type {
  RedisStreamsClientOptions,
  RedisStreamsClusterConnection,
  RedisStreamsConnection,
  RedisStreamsConnectionOptions,
  RedisStreamsRetentionGap,
  RedisStreamsServerOptions,
} from './redis-streams.options';
export { DEAD_LETTER_REASONS, type DeadLetterReason } from './redis-streams.runtime';
export {
  RedisStreamsServer,
  type RedisStreamsCapabilities,
  type RedisStreamsLag,
  type RedisStreamsStats,
} from './server-redis-streams';
