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

  constructor(readonly path: string) {
    super(
      `Session data may not contain "${path}": secrets such as passwords and card numbers are never stored in a session`,
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
 * SessionGuard met a context it cannot authenticate (WebSocket, RPC): refused loudly rather than
 * let through without a session.
 */
export class UnsupportedContextError extends SessionError {
  readonly code = 'UNSUPPORTED_CONTEXT';

  constructor(
    readonly contextType: string,
    handler: string,
  ) {
    super(
      `SessionGuard cannot authenticate a "${contextType}" request (${handler}): it authenticates HTTP only. ` +
        "WebSocket authentication comes with the library's gateway support; until then mark the handler @Public() " +
        'to run it without a session, or do not apply SessionGuard to it.',
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
