import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { pino } from 'pino';
import { levelOf, requestContext, requestLogging } from './request-logging';

interface FakeResponse extends EventEmitter {
  statusCode: number;
  headersSent: boolean;
  writableFinished: boolean;
  headers: Record<string, string>;
  setHeader(name: string, value: string): void;
  getHeaders(): Record<string, string>;
}

function fakeResponse(): FakeResponse {
  const response = new EventEmitter() as FakeResponse;
  response.statusCode = 200;
  response.writableFinished = false;
  // Node reports the status only once the headers went out (pino's serializer checks it).
  response.headersSent = true;
  response.headers = {};
  response.setHeader = (name, value) => (response.headers[name] = value);
  response.getHeaders = () => response.headers;
  return response;
}

function harness(level: string) {
  const lines: Record<string, unknown>[] = [];
  const root = pino(
    {
      level,
      mixin: requestContext,
      serializers: { req: pino.stdSerializers.req, res: pino.stdSerializers.res },
    },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const middleware = requestLogging(root);
  const run = (headers: Record<string, string> = {}, inside: () => void = () => undefined) => {
    const request = {
      method: 'GET',
      url: '/auth/me',
      headers,
      socket: {},
    } as unknown as Parameters<typeof middleware>[0];
    const response = fakeResponse();
    let nexted = false;
    middleware(request, response as unknown as ServerResponse, () => {
      nexted = true;
      inside();
    });
    expect(nexted).toBe(true);
    return { request, response };
  };
  return { lines, run, root };
}

describe('levelOf', () => {
  it.each([
    [200, false, 'info'],
    [304, false, 'info'],
    [401, false, 'warn'],
    [499, false, 'warn'],
    [500, false, 'error'],
    [503, false, 'error'],
    [200, true, 'warn'],
    [500, true, 'error'],
  ])('status %i (aborted %s) → %s', (status, aborted, level) => {
    expect(levelOf(status, aborted)).toBe(level);
  });
});

describe('requestLogging', () => {
  it('writes one line per finished request with id, status, time and the session handle', () => {
    const { lines, run } = harness('info');
    const { request, response } = run({ 'x-request-id': 'abc-123' });
    expect(response.headers['x-request-id']).toBe('abc-123');
    expect(request.id).toBe('abc-123');
    request.session = { userId: 'alice', sessionId: '3-s' } as typeof request.session;
    response.writableFinished = true;
    response.emit('finish');
    response.emit('close');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      msg: 'request completed',
      reqId: 'abc-123',
      userId: 'alice',
      sessionId: '3-s',
      req: { id: 'abc-123', method: 'GET', url: '/auth/me' },
      res: { statusCode: 200 },
    });
    expect(typeof lines[0].responseTime).toBe('number');
  });

  it('replaces a missing or unsafe request id with a UUID', () => {
    const { run } = harness('info');
    for (const given of [undefined, 'has spaces', 'x'.repeat(65), 'new\nline']) {
      const { response } = run(given === undefined ? {} : { 'x-request-id': given });
      expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('writes nothing for a 200 at warn, a warn line for a 4xx, an error line for a 5xx', () => {
    const { lines, run } = harness('warn');
    for (const status of [200, 404, 500]) {
      const { response } = run();
      response.statusCode = status;
      response.writableFinished = true;
      response.emit('finish');
      response.emit('close');
    }
    expect(lines.map((l) => [l.level, (l.res as { statusCode: number }).statusCode])).toEqual([
      [40, 404],
      [50, 500],
    ]);
    expect(lines[1].msg).toBe('request errored');
  });

  it('reports an answer the client did not wait for as aborted, at warn', () => {
    const { lines, run } = harness('info');
    const { response } = run();
    response.emit('close');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, msg: 'request aborted' });
  });

  it('puts the request id on app logs written while the request runs, and only then', async () => {
    const { lines, run, root } = harness('info');
    let later: Promise<void> = Promise.resolve();
    run({ 'x-request-id': 'ctx-1' }, () => {
      root.info('inside the handler');
      later = Promise.resolve().then(() => root.info('after an await'));
    });
    await later;
    root.info('outside');
    expect(lines.map((l) => [l.msg, l.reqId])).toEqual([
      ['inside the handler', 'ctx-1'],
      ['after an await', 'ctx-1'],
      ['outside', undefined],
    ]);
  });
});
