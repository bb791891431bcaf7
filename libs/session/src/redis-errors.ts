import { SessionStoreUnavailableError } from './errors';

// Client-side failures of ioredis that mean the server cannot be reached in time. A Cluster
// client gives up with "Too many Cluster redirections" while slots have no master (fail-over).
const CONNECTION_FAILURE =
  /Connection is closed|Too many Cluster redirections|Stream isn't writeable|Command timed out|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND|Reached the max retries|None of startup nodes|Failed to refresh slots cache|Cluster isn't ready/;
const CONNECTION_ERROR_NAMES = new Set([
  'MaxRetriesPerRequestError',
  'ClusterAllFailedError',
  'AbortError',
]);

// Replies that mean "Redis cannot serve this now" rather than "our command is wrong". A script's
// write refused for memory comes back wrapped, so OOM is matched anywhere in the message. MOVED /
// ASK reach the caller only when the client could not follow them (an auto-pipelined batch whose
// slots moved, see apps/worker): the topology is changing.
const TRANSIENT_REPLY =
  /^(LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|READONLY|BUSY|NOREPLICAS|MOVED|ASK)\b|\bOOM\b/;

/**
 * Maps a Redis failure to SessionStoreUnavailableError (answered 503) when it is about
 * availability: connection closed or not writable, command timeout, out of memory, failover.
 * Anything else (an error reply to a wrong command, a TypeError in our code) is a bug and is
 * rethrown as is, so it is not hidden behind a 503.
 */
export function toStoreError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const unavailable =
    error.name === 'ReplyError'
      ? TRANSIENT_REPLY.test(error.message)
      : CONNECTION_ERROR_NAMES.has(error.name) || CONNECTION_FAILURE.test(error.message);
  return unavailable ? new SessionStoreUnavailableError(error) : error;
}

export async function guardStoreCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toStoreError(error);
  }
}
