/**
 * Typed errors of the session library. Each carries a stable `code` so callers (and the HTTP
 * mapping in session-error.filter.ts) can branch without string matching.
 */
export abstract class SessionError extends Error {
  abstract readonly code: string;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A token that is not of our format: rejected before any Redis call. */
export class InvalidTokenError extends SessionError {
  readonly code = 'INVALID_TOKEN';
}

export class InvalidSessionIdError extends SessionError {
  readonly code = 'INVALID_SESSION_ID';
}

export class InvalidUserIdError extends SessionError {
  readonly code = 'INVALID_USER_ID';
}

/** The session does not exist, is expired or revoked, or belongs to someone else. */
export class SessionNotFoundError extends SessionError {
  readonly code = 'SESSION_NOT_FOUND';
}

export class InvalidSessionDataError extends SessionError {
  readonly code = 'INVALID_SESSION_DATA';
}

export class ForbiddenSessionDataError extends SessionError {
  readonly code = 'FORBIDDEN_SESSION_DATA';

  constructor(
    readonly path: string,
    readonly kind: 'key' | 'value' = 'key',
  ) {
    super(
      kind === 'key'
        ? `Session data may not contain "${path}": secrets such as passwords and card numbers are never stored in a session`
        : `Session data at "${path}" looks like a payment card number: card numbers are never stored in a session`,
    );
  }
}

/** A key only the server may write (e.g. `roles`), sent through `update()`. */
export class ServerOwnedSessionDataError extends SessionError {
  readonly code = 'SERVER_OWNED_SESSION_DATA';

  constructor(readonly key: string) {
    super(
      `"${key}" is server-owned: it is set at login or by updateServerOwned(), not by update()`,
    );
  }
}

/** A patch, or the data it would leave, has more top-level keys than allowed. */
export class SessionDataTooManyKeysError extends SessionError {
  readonly code = 'SESSION_DATA_TOO_MANY_KEYS';

  constructor(
    readonly keys: number,
    readonly limit: number,
    what: 'patch' | 'session' = 'session',
  ) {
    super(
      what === 'patch'
        ? `The patch names ${keys} keys, over the limit of ${limit}`
        : `Session data would hold ${keys} keys, over the limit of ${limit}`,
    );
  }
}

export class SessionDataTooLargeError extends SessionError {
  readonly code = 'SESSION_DATA_TOO_LARGE';

  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`Session data is ${size} bytes, over the limit of ${limit} bytes`);
  }
}

export class InvalidSessionMetaError extends SessionError {
  readonly code = 'INVALID_SESSION_META';
}

/** Redis could not be reached in time: the request should be answered 503, not 500. */
export class SessionStoreUnavailableError extends SessionError {
  readonly code = 'SESSION_STORE_UNAVAILABLE';

  constructor(override readonly cause?: unknown) {
    super('The session store is unavailable');
  }
}

/**
 * This process is configured differently from the deployment it joins (e.g. another partition
 * count): it refuses to start, or, when that is found only after start-up, to serve (503).
 */
export class DeploymentMismatchError extends SessionError {
  readonly code = 'DEPLOYMENT_MISMATCH';

  constructor(
    readonly setting: string,
    readonly configured: string,
    readonly stored: string,
    keyPrefix: string,
  ) {
    // One line: it is what a process that refuses to start prints.
    const change =
      setting === 'streamPartitions'
        ? `to change it, start a new deployment under another key prefix (see the README, "Changing the partition count")`
        : `to change it deliberately, run \`npm run deployment:settings -- --adopt\` with the new configuration, then restart every process with it (see the README, "Changing deployment settings")`;
    super(
      `The deployment under key prefix "${keyPrefix}" was created with ${setting} = ${stored}, ` +
        `but this process is configured with ${configured}. Every process of a deployment must ` +
        `use the same ${setting}; ${change}.`,
    );
  }
}

/**
 * SessionGuard met a context it cannot authenticate (RPC): refused loudly rather than let through
 * without a session.
 */
export class UnsupportedContextError extends SessionError {
  readonly code = 'UNSUPPORTED_CONTEXT';

  constructor(
    readonly contextType: string,
    handler: string,
  ) {
    super(
      `SessionGuard cannot authenticate a "${contextType}" request (${handler}): it authenticates ` +
        'HTTP requests and WebSocket gateway messages (after SessionSockets.authenticate at the ' +
        'handshake). Mark the handler @Public() to run it without a session, or do not apply ' +
        'SessionGuard to it.',
    );
  }
}

/** Raised at start-up, naming the option that is wrong. */
export class SessionConfigError extends SessionError {
  readonly code = 'SESSION_CONFIG';

  constructor(
    readonly option: string,
    problem: string,
  ) {
    super(`Invalid session option "${option}": ${problem}`);
  }
}

/** A stream event whose schema version this code does not understand. */
export class UnsupportedEventError extends SessionError {
  readonly code = 'UNSUPPORTED_EVENT';
}
