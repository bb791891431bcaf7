import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Level, Logger } from 'pino';
import type { SessionRequest } from '@app/session';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

type LoggedRequest = IncomingMessage & SessionRequest & { id?: string };

/** The id of the request being handled, for every log line written while handling it. */
const requestIds = new AsyncLocalStorage<string>();

/** `{ reqId }` inside a request, `{}` outside: the root logger's mixin (see createRootLogger). */
export function requestContext(): { reqId?: string } {
  const reqId = requestIds.getStore();
  return reqId === undefined ? {} : { reqId };
}

/** The caller's `x-request-id` when it is a sane token, else a new UUID. */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** The request id, echoed on the answer. */
export function requestId(request: IncomingMessage, response: ServerResponse): string {
  const id = requestIdOf(request);
  response.setHeader('x-request-id', id);
  return id;
}

/**
 * Makes `id` the request id of everything that runs from here on in this request. For Fastify's
 * onRequest hook: the rest of the request (parsing, Nest's handler) continues from it.
 */
export function enterRequestContext(id: string): void {
  requestIds.enterWith(id);
}

/**
 * 5xx → error; 4xx, and an answer the client did not wait for (it went away: not the server's
 * fault, but worth seeing) → warn; the rest → info.
 */
export function levelOf(statusCode: number, aborted: boolean): Level {
  return statusCode >= 500 ? 'error' : aborted || statusCode >= 400 ? 'warn' : 'info';
}

function messageOf(statusCode: number, aborted: boolean): string {
  if (aborted) return 'request aborted';
  return statusCode >= 500 ? 'request errored' : 'request completed';
}

/**
 * One JSON line per finished request (method, url, status, time, request id, and the session's
 * public handle and user id when there was one), at a level that follows the status; and the
 * request id in the context of everything the request runs, so app logs carry `reqId` too.
 *
 * Why not pino-http: it builds child loggers with the whole serialized (and redacted) request for
 * every request, before knowing whether a line will be written; at LOG_LEVEL=warn, when a 200
 * writes nothing, that was 16 % of the api's CPU. Here a request costs an id; the request and
 * response are serialized only for a line that is written.
 */
export function requestLogging(root: Logger) {
  return (request: LoggedRequest, response: ServerResponse, next: () => void): void => {
    const id = requestId(request, response);
    request.id = id;
    logWhenDone(root, id, request, response, () => response);
    requestIds.run(id, next);
  };
}

/**
 * Writes the request's line when `raw` (the Node response) closes. `request` is what the adapter
 * hands to Nest (the guard sets the session on it; pino's serializer reads Express's and
 * Fastify's); `responseForLog` gives pino's response serializer its view, only for a written line.
 */
export function logWhenDone(
  root: Logger,
  id: string,
  request: SessionRequest,
  raw: ServerResponse,
  responseForLog: () => object,
): void {
  const started = Date.now();
  // 'close' comes after 'finish' for a complete answer, alone when the client went away first.
  raw.once('close', () => {
    const aborted = !raw.writableFinished;
    const level = levelOf(raw.statusCode, aborted);
    if (!root.isLevelEnabled(level)) return;
    const session = request.session;
    root[level](
      {
        reqId: id,
        req: request,
        res: responseForLog(),
        responseTime: Date.now() - started,
        ...(session ? { userId: session.userId, sessionId: session.sessionId } : {}),
      },
      messageOf(raw.statusCode, aborted),
    );
  });
}
