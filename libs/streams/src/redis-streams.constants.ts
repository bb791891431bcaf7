/** Transport id of the Redis Streams transport (`@EventPattern(pattern, REDIS_STREAMS_TRANSPORT)`). */
export const REDIS_STREAMS_TRANSPORT: unique symbol = Symbol.for('REDIS_STREAMS');

/** Entry field holding the event pattern. */
export const PATTERN_FIELD = 'pattern';
/** Entry field holding the JSON payload. */
export const DATA_FIELD = 'data';

export const REDIS_STREAMS_DEFAULTS = {
  batchSize: 50,
  blockMs: 5_000,
  concurrency: 16,
  claimIdleMs: 60_000,
  claimIntervalMs: 10_000,
  maxDeliveries: 5,
  deadLetterMaxLen: 10_000,
  shutdownTimeoutMs: 10_000,
  handlerTimeoutMs: 30_000,
  startId: '$',
  /** Producer side: how long emit() waits for a connection / an XADD reply. */
  clientTimeoutMs: 5_000,
} as const;

/** Default dead-letter stream of a source stream (keeps its hash tag, so it stays in its slot). */
export const defaultDeadLetterStream = (stream: string): string => `${stream}:dead`;

/** Default reconnect delay: 100 ms doubling up to 2 s. */
export const defaultRetryDelay = (attempt: number): number =>
  Math.min(100 * 2 ** Math.min(Math.max(attempt - 1, 0), 10), 2_000);

/** Default in-place retry delay after a failed handler: 1 s doubling up to 30 s. */
export const defaultHandlerRetryDelay = (deliveryCount: number): number =>
  Math.min(1_000 * 2 ** Math.min(Math.max(deliveryCount - 1, 0), 10), 30_000);

export const NOT_INITIALIZED_SERVER =
  'Not initialized. Please call the "listen"/"startAllMicroservices" method before accessing the server.';
export const NOT_INITIALIZED_CLIENT = 'Not initialized. Please call the "connect" method first.';
export const SEND_NOT_SUPPORTED =
  'RedisStreamsClient does not support request-response (send/@MessagePattern): Redis Streams ' +
  'carry one-way events. Use emit(pattern, data) with an @EventPattern handler instead.';
