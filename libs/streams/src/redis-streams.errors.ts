/**
 * A server or client option (or what a connection factory returned) the transport cannot work
 * with; thrown at construction or in listen()/connect(), with a message naming the option.
 */
export class RedisStreamsConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisStreamsConfigError';
  }
}

/** The dead-letter MULTI was discarded (EXEC answered nil): the entry stays pending. */
export class DeadLetterAbortedError extends Error {
  constructor(
    readonly stream: string,
    readonly id: string,
  ) {
    super(`Dead-letter transaction of ${stream} ${id} aborted`);
    this.name = 'DeadLetterAbortedError';
  }
}

/**
 * A handler error that retrying cannot cure (an event this release cannot read, a payload that
 * breaks an invariant): the entry is dead-lettered at once, reason `permanent`. Any error with
 * `permanent: true` counts (see the `isPermanentFailure` option).
 */
export class RedisStreamsPermanentError extends Error {
  readonly permanent = true;

  constructor(message: string) {
    super(message);
    this.name = 'RedisStreamsPermanentError';
  }
}
