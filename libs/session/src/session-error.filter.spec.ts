import type { ArgumentsHost, HttpServer } from '@nestjs/common';
import * as errors from './errors';
import { SESSION_ERROR_STATUS, SessionErrorFilter } from './session-error.filter';

/** One instance of every concrete typed error the library exports. */
const samples: errors.SessionError[] = [
  new errors.InvalidTokenError('x'),
  new errors.InvalidSessionIdError('x'),
  new errors.InvalidUserIdError('x'),
  new errors.SessionNotFoundError('x'),
  new errors.InvalidSessionDataError('x'),
  new errors.ForbiddenSessionDataError('password'),
  new errors.ForbiddenSessionDataError('note', 'value'),
  new errors.ServerOwnedSessionDataError('roles'),
  new errors.SessionDataTooLargeError(5000, 4096),
  new errors.SessionDataTooManyKeysError(65, 64),
  new errors.InvalidSessionMetaError('x'),
  new errors.SessionStoreUnavailableError(),
];

function answer(error: errors.SessionError): { status: number; body: unknown } {
  const result = { status: 0, body: undefined as unknown };
  const response = {
    status(code: number) {
      result.status = code;
      return { json: (body: unknown) => (result.body = body) };
    },
  };
  const host = { switchToHttp: () => ({ getResponse: () => response }) } as ArgumentsHost;
  new SessionErrorFilter().catch(error, host);
  return result;
}

describe('SessionErrorFilter', () => {
  it.each(samples.map((e) => [e.code, e] as const))('answers %s with its status', (code, error) => {
    expect(SESSION_ERROR_STATUS[code]).toBeDefined();
    expect(answer(error).status).toBe(SESSION_ERROR_STATUS[code]);
  });

  it.each([
    ['ServerOwnedSessionDataError', new errors.ServerOwnedSessionDataError('roles'), 400],
    ['ForbiddenSessionDataError (a card number)', samples[6], 400],
    ['SessionDataTooManyKeysError', new errors.SessionDataTooManyKeysError(300, 64, 'patch'), 413],
  ])('maps %s to %d', (_, error, status) => {
    const { body } = answer(error);
    expect(body).toMatchObject({ statusCode: status, message: error.message });
  });

  it('replies through the HTTP adapter when it has one (Fastify, Express alike)', () => {
    const replies: unknown[][] = [];
    const adapter = {
      isHeadersSent: () => false,
      reply: (...args: unknown[]) => replies.push(args),
    } as unknown as HttpServer;
    const response = { marker: true };
    const host = { switchToHttp: () => ({ getResponse: () => response }) } as ArgumentsHost;
    new SessionErrorFilter(adapter).catch(new errors.SessionStoreUnavailableError(), host);
    expect(replies).toEqual([
      [
        response,
        { statusCode: 503, message: 'Session store unavailable', error: 'Service Unavailable' },
        503,
      ],
    ]);
  });

  it('answers a Fastify reply (code/send) when built without an adapter', () => {
    const sent: unknown[] = [];
    const reply = {
      status: () => reply,
      code: (status: number) => ({ send: (body: unknown) => sent.push(status, body) }),
    };
    const host = { switchToHttp: () => ({ getResponse: () => reply }) } as ArgumentsHost;
    new SessionErrorFilter().catch(new errors.InvalidTokenError('x'), host);
    expect(sent).toEqual([401, expect.objectContaining({ statusCode: 401 })]);
  });
});
