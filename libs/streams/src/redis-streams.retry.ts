import type { LoggerService } from '@nestjs/common';

export interface RetryStrategyArgs {
  /** Reconnect attempts before giving up (Infinity: forever). */
  retryAttempts: number;
  /** Delay before attempt N (ms). */
  retryDelay: (attempt: number) => number;
  /** True once the owner was closed on purpose: no reconnecting after close(). */
  isClosed: () => boolean;
  logger: LoggerService;
}

/**
 * The ioredis `retryStrategy` of every connection of the transport (server and client), as Nest's
 * Redis transport does it: stop after an explicit close or after `retryAttempts`, else wait
 * `retryDelay(times)`.
 */
export function createRetryStrategy({
  retryAttempts,
  retryDelay,
  isClosed,
  logger,
}: RetryStrategyArgs): (times: number) => number | null {
  return (times) => {
    if (isClosed()) return null;
    if (times > retryAttempts) {
      logger.error('Retry time exhausted');
      return null;
    }
    return retryDelay(times);
  };
}
