/**
 * Fuzzes the HTTP api (the real app, in-process, on the test Redis): random methods on known and
 * unknown paths, random path ids, headers, cookies and tokens, random JSON and malformed bodies,
 * wrong content types, unicode and huge values, and some raw HTTP written straight to the socket.
 *
 * Holds: no 5xx at all (Redis is up, so not even a 503), every request answered within a bound,
 * every error the app answers in Nest's JSON shape, and the server healthy afterwards.
 *
 * Reproduce a failure with FUZZ_SEED=<the printed seed>.
 */
import fc from 'fast-check';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { type ApiFixture, createApiFixture, type LoggedIn } from '../api/api-fixture';

jest.setTimeout(180_000);

const REQUESTS = 10_000;
const CONCURRENCY = 16;
/** No request may take longer than this (the app's own Redis timeout is 2 s). */
const REQUEST_TIMEOUT_MS = 10_000;
/** Logged-in sessions are refreshed this often, since the fuzz logs out, rotates and revokes. */
const REFRESH_EVERY = 400;

const seed = process.env.FUZZ_SEED
  ? Number(process.env.FUZZ_SEED)
  : (Date.now() ^ (Math.random() * 2 ** 31)) >>> 0;

// ---------------------------------------------------------------------------------------------
// What a request is made of. Tokens and session ids are named by slot and resolved when sent, so
// the specs can be generated up front from the seed.

type Slot = 'alice' | 'alice2' | 'bob' | 'admin';
const SLOTS: readonly Slot[] = ['alice', 'alice2', 'bob', 'admin'];

type Piece =
  | { kind: 'text'; value: string }
  | { kind: 'token'; slot: Slot; mutate: 'none' | 'tamper' | 'truncate' | 'old' }
  | { kind: 'sessionId'; slot: Slot };

interface Spec {
  transport: 'http' | 'raw';
  method: string;
  path: Piece[];
  /** Header name → value pieces; repeated names allowed. */
  headers: [string, Piece[]][];
  body?: { contentType?: string; encoding?: string; payload: Buffer };
}

const text = (value: string): Piece => ({ kind: 'text', value });

// ---------------------------------------------------------------------------------------------
// Arbitraries

const unicode = fc.string({ unit: 'binary', maxLength: 40 });
/** Long values: most fit Node's 16 KiB header limit, some do not (Node answers those 431). */
const hugeString = fc
  .tuple(
    fc.constantFrom('a', 'é', '🎉', '%', '\u0000', '.'),
    fc.oneof({ weight: 4, arbitrary: fc.constantFrom(300, 1_000, 3_000) }, fc.constant(20_000)),
  )
  .map(([c, n]) => c.repeat(n));
const anyString = fc.oneof(
  { weight: 12, arbitrary: unicode },
  { weight: 1, arbitrary: hugeString },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      'null',
      'undefined',
      '0',
      '-1',
      '1e400',
      '__proto__',
      'constructor',
      '../../etc/passwd',
      '%00',
      '%ZZ',
      '%',
      '\r\n',
      'alice',
      'admin',
      '0-00000000-0000-4000-8000-000000000000',
      '15-ffffffff-ffff-4fff-bfff-ffffffffffff',
      '16-00000000-0000-4000-8000-000000000000',
      "' OR 1=1 --",
      '<script>alert(1)</script>',
      '{"$gt":""}',
    ),
  },
);

/** Percent-encodes a path segment, sometimes leaving it raw or broken. */
const segment = fc.oneof(
  { weight: 4, arbitrary: anyString.map((s) => encodeURIComponent(s)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('%ZZ', '%', '%E0%A4%A', '%C0%AF', '..', '.', '%2e%2e', '%2F', '%00'),
  },
);

const sessionIdPiece: fc.Arbitrary<Piece> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(...SLOTS).map((slot): Piece => ({ kind: 'sessionId', slot })),
  },
  { weight: 2, arbitrary: segment.map(text) },
  {
    weight: 1,
    arbitrary: fc.uuid({ version: 4 }).map((u) => text(`${u.charCodeAt(0) % 17}-${u}`)),
  },
);

const userIdPiece: fc.Arbitrary<Piece> = fc.oneof(
  fc.constantFrom('alice', 'bob', 'admin', 'nobody').map(text),
  segment.map(text),
);

const KNOWN: [string, (fc.Arbitrary<Piece> | string)[]][] = [
  ['POST', ['/auth/login']],
  ['GET', ['/auth/me']],
  ['POST', ['/auth/logout']],
  ['POST', ['/auth/rotate']],
  ['GET', ['/sessions']],
  ['PATCH', ['/sessions/current']],
  ['DELETE', ['/sessions/', sessionIdPiece]],
  ['POST', ['/sessions/revoke-others']],
  ['DELETE', ['/admin/users/', userIdPiece, '/sessions']],
  ['GET', ['/health']],
  ['GET', ['/ping']],
  ['GET', ['/metrics']],
  ['GET', ['/docs-json']],
];

const knownRoute = fc
  .constantFrom(...KNOWN)
  .chain(([method, parts]) =>
    fc
      .tuple(...parts.map((p) => (typeof p === 'string' ? fc.constant(text(p)) : p)))
      .map((path) => ({ method, path })),
  );

const randomPath = fc.oneof(
  fc.array(segment, { minLength: 0, maxLength: 5 }).map((segs) => [text(`/${segs.join('/')}`)]),
  fc
    .constantFrom(
      '//auth//me',
      '/auth/me/',
      '/AUTH/ME',
      '/auth/me?x=1&x=2&__proto__[a]=1',
      '/auth/me?%ZZ',
      '/auth/me#frag',
      '/auth/./me',
      '/auth/../auth/me',
      '/sessions/%ZZ',
      '/sessions/%',
      '/admin/users/%E0%A4%A/sessions',
      '/admin/users//sessions',
      '/sessions/current/extra',
      '/docs/',
      '/health?verbose=1',
      `/${'a'.repeat(7_000)}`,
      `/${'a'.repeat(20_000)}`,
      '*',
    )
    .map((p) => [text(p)]),
);

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
const EXOTIC_METHODS = ['PROPFIND', 'PURGE', 'TRACE', 'SEARCH', 'MKCOL', 'LOCK'];
const RAW_ONLY_METHODS = ['FOO', 'get', 'G E T', 'PATCH2', ''];

const tokenPiece: fc.Arbitrary<Piece> = fc
  .tuple(
    fc.constantFrom(...SLOTS),
    fc.oneof(
      { weight: 6, arbitrary: fc.constant('none' as const) },
      fc.constantFrom('tamper' as const, 'truncate' as const, 'old' as const),
    ),
  )
  .map(([slot, mutate]) => ({ kind: 'token', slot, mutate }));
const tokenOrGarbage = fc.oneof({ weight: 3, arbitrary: tokenPiece }, anyString.map(text));

/** Authentication as a client could present it: none, bearer, header, cookie (with or without CSRF). */
const authHeaders: fc.Arbitrary<[string, Piece[]][]> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<[string, Piece[]][]>([]) },
  {
    weight: 2,
    arbitrary: tokenOrGarbage.map(
      (t) => [['authorization', [text('Bearer '), t]]] as [string, Piece[]][],
    ),
  },
  {
    weight: 2,
    arbitrary: tokenOrGarbage.map((t) => [['x-session-id', [t]]] as [string, Piece[]][]),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(tokenOrGarbage, fc.option(anyString, { freq: 2 })).map(([t, csrf]) => {
      const headers: [string, Piece[]][] = [['cookie', [text('session_id='), t]]];
      if (csrf !== null) headers.push(['x-csrf-token', [text(csrf)]]);
      return headers;
    }),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(tokenPiece, tokenPiece, anyString)
      .map(([a, b, junk]): [string, Piece[]][] => [
        ['cookie', [text('a=1; session_id='), a, text(`; session_id=${encodeURIComponent(junk)}`)]],
        ['x-session-id', [b]],
        ['authorization', [text('Basic '), text(junk)]],
      ]),
  },
);

const extraHeaders: fc.Arbitrary<[string, Piece[]][]> = fc.array(
  fc.tuple(
    fc.constantFrom(
      'accept',
      'user-agent',
      'x-forwarded-for',
      'x-csrf-token',
      'accept-encoding',
      'content-language',
      'if-none-match',
      'range',
      'origin',
      'x-http-method-override',
      'x-random',
    ),
    anyString.map((s) => [text(s)]),
  ),
  { maxLength: 3 },
);

const jsonValue = fc.jsonValue({ maxDepth: 3 });
const interestingObject = fc.oneof(
  fc.dictionary(anyString, jsonValue, { maxKeys: 4 }),
  fc.record({ data: fc.oneof(jsonValue, fc.dictionary(anyString, jsonValue, { maxKeys: 4 })) }),
  fc.record({
    data: fc.constantFrom(
      { password: 'x' },
      { nested: { cardNumber: '4111' } },
      { roles: ['admin'] },
      { Roles: 'admin' },
      { theme: 'dark', n: 1 },
      { big: 'x'.repeat(5_000) },
      JSON.parse('{"__proto__": {"polluted": true}}') as unknown,
      { constructor: { prototype: 1 } },
    ),
  }),
  fc.record(
    { userId: fc.oneof(anyString, jsonValue), password: fc.oneof(anyString, jsonValue) },
    { requiredKeys: [] },
  ),
);

const LOGINS = [
  { userId: 'alice', password: 'alice-demo-pass' },
  { userId: 'bob', password: 'wrong-password' },
  { userId: 'nobody', password: 'x' },
];

const json = (value: unknown, contentType = 'application/json') => ({
  contentType,
  payload: Buffer.from(JSON.stringify(value) ?? 'null'),
});

const bodyArb: fc.Arbitrary<Spec['body']> = fc.oneof(
  { weight: 10, arbitrary: fc.constant(undefined) },
  { weight: 10, arbitrary: interestingObject.map((v) => json(v)) },
  // Login-shaped bodies cost a password hash each (tens of ms): kept rare.
  { weight: 1, arbitrary: fc.constantFrom(...LOGINS).map((v) => json(v)) },
  {
    weight: 2,
    arbitrary: fc.tuple(interestingObject, fc.nat()).map(([v, cut]) => {
      const s = JSON.stringify(v);
      return {
        contentType: 'application/json',
        payload: Buffer.from(s.slice(0, cut % (s.length + 1)) + '}{'),
      };
    }),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom(
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/vnd.api+json',
          'application/merge-patch+json',
          'application/json; charset=utf-16',
          'application/json; charset=latin1',
          'application/json; charset=nope',
          'application/xml',
          'json',
          '',
          'application/json, text/plain',
        ),
        interestingObject,
      )
      .map(([contentType, v]) => ({ contentType, payload: Buffer.from(JSON.stringify(v) ?? '') })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        '1',
        '"str"',
        'null',
        'true',
        '[]',
        '[1,2]',
        '',
        '{',
        '{"a":',
        '\u0000',
        '{"data":{"a":1e400}}',
        '{"data":{"a":-0}}',
        '{"data":' + '['.repeat(5_000) + ']'.repeat(5_000) + '}',
        '{"data":' + '{"a":'.repeat(2_000) + '1' + '}'.repeat(2_000) + '}',
        '{"data":{"k":"\\ud800"}}',
        '\ufeff{"data":{"a":1}}',
      )
      .map((s) => ({ contentType: 'application/json', payload: Buffer.from(s) })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(99_000, 101_000, 150_000).map((n) => ({
      contentType: 'application/json',
      payload: Buffer.from(`{"data":{"a":"${'x'.repeat(n)}"}}`),
    })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'bogus').chain((encoding) =>
      fc.oneof(
        fc.constant({
          contentType: 'application/json',
          encoding,
          payload: gzipSync(Buffer.from('{"data":{"zipped":true}}')),
        }),
        fc.constant({
          contentType: 'application/json',
          encoding,
          payload: Buffer.from('not compressed'),
        }),
      ),
    ),
  },
);

const httpSpec: fc.Arbitrary<Spec> = fc
  .record({
    route: fc.oneof(
      { weight: 5, arbitrary: knownRoute },
      { weight: 1, arbitrary: randomPath.map((path) => ({ method: 'GET', path })) },
    ),
    method: fc.oneof(
      { weight: 6, arbitrary: fc.constant(null) },
      { weight: 3, arbitrary: fc.constantFrom(...METHODS) },
      { weight: 1, arbitrary: fc.constantFrom(...EXOTIC_METHODS) },
    ),
    auth: authHeaders,
    extra: extraHeaders,
    body: bodyArb,
  })
  .map(({ route, method, auth, extra, body }) => ({
    transport: 'http',
    method: method ?? route.method,
    path: route.path,
    headers: [...auth, ...extra],
    body,
  }));

/** Raw HTTP, to send what a well-behaved client library refuses to. */
const rawSpec: fc.Arbitrary<Spec> = fc
  .record({
    route: fc.oneof(
      knownRoute,
      randomPath.map((path) => ({ method: 'GET', path })),
    ),
    method: fc.oneof(fc.constantFrom(...METHODS), fc.constantFrom(...RAW_ONLY_METHODS)),
    rawPath: fc.option(
      fc.oneof(
        unicode.map((s) => `/sessions/${s}`),
        unicode.map((s) => `/auth/me?${s}`),
        fc.constant('/auth/me HTTP/1.1 x'),
      ),
      { freq: 2 },
    ),
    auth: authHeaders,
    rawHeader: fc.option(
      fc.oneof(
        unicode.map((s) => ['x-session-id', [text(s)]] as [string, Piece[]]),
        unicode.map((s) => ['cookie', [text(`session_id=${s}`)]] as [string, Piece[]]),
        fc.constant(['bad header name', [text('x')]] as [string, Piece[]]),
        fc.constant(['content-length', [text('-1')]] as [string, Piece[]]),
        fc.constant(['transfer-encoding', [text('chunked, gzip')]] as [string, Piece[]]),
      ),
    ),
    body: bodyArb,
  })
  .map(({ route, method, rawPath, auth, rawHeader, body }) => ({
    transport: 'raw',
    method,
    path: rawPath === null ? route.path : [text(rawPath)],
    headers: rawHeader ? [...auth, rawHeader] : auth,
    body,
  }));

const specArb: fc.Arbitrary<Spec> = fc.oneof(
  { weight: 19, arbitrary: httpSpec },
  { weight: 1, arbitrary: rawSpec },
);

// ---------------------------------------------------------------------------------------------
// Sending

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  ms: number;
}

// Node's agent still sends `Connection: keep-alive` here and hands a finished connection to the
// next queued request, so the fuzz also covers refused requests that follow answered ones.
const agent = new Agent({ keepAlive: false, maxSockets: CONCURRENCY });

/** Header values as Node accepts them: UTF-8 bytes seen as latin1, no control characters. */
function headerSafe(value: string): string {
  // eslint-disable-next-line no-control-regex
  return Buffer.from(value.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, ''), 'utf8').toString(
    'latin1',
  );
}

function pathSafe(value: string): string {
  // Node refuses unescaped characters outside 0x21..0xff in a request path.
  return value.replace(/[^\u0021-\u007e]/gu, (c) => encodeURIComponent(c));
}

function sendHttp(
  port: number,
  spec: Spec,
  path: string,
  headers: [string, string][],
): Promise<Answer> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    // Raw header lists get no automatic Host header, and Node answers 400 without one.
    const flat: string[] = ['host', `127.0.0.1:${port}`];
    for (const [name, value] of headers) flat.push(name, headerSafe(value));
    if (spec.body) {
      if (spec.body.contentType !== undefined)
        flat.push('content-type', headerSafe(spec.body.contentType));
      if (spec.body.encoding) flat.push('content-encoding', spec.body.encoding);
      flat.push('content-length', String(spec.body.payload.length));
    }
    const req = httpRequest(
      { host: '127.0.0.1', port, method: spec.method, path: pathSafe(path), headers: flat, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
            ms: Date.now() - started,
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () =>
      req.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)),
    );
    req.on('error', reject);
    req.end(spec.body?.payload);
  });
}

function sendRaw(
  port: number,
  spec: Spec,
  path: string,
  headers: [string, string][],
): Promise<Answer> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const lines = [`${spec.method} ${path} HTTP/1.1`, 'host: 127.0.0.1', 'connection: close'];
    for (const [name, value] of headers) lines.push(`${name}: ${value.replace(/[\r\n]/g, '')}`);
    if (spec.body) {
      if (spec.body.contentType !== undefined) lines.push(`content-type: ${spec.body.contentType}`);
      if (spec.body.encoding) lines.push(`content-encoding: ${spec.body.encoding}`);
      lines.push(`content-length: ${spec.body.payload.length}`);
    }
    socket.setTimeout(REQUEST_TIMEOUT_MS, () =>
      socket.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)),
    );
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error) => {
      // The server may close the connection as soon as it has answered a broken request.
      if (chunks.length === 0) reject(error);
    });
    socket.on('close', () => {
      const response = Buffer.concat(chunks);
      const head = response.toString('latin1', 0, Math.min(response.length, 64));
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (!match) {
        reject(new Error(`no HTTP answer to raw request (${JSON.stringify(head)})`));
        return;
      }
      const bodyStart = response.indexOf('\r\n\r\n');
      resolve({
        status: Number(match[1]),
        headers: {},
        body: bodyStart < 0 ? Buffer.alloc(0) : response.subarray(bodyStart + 4),
        ms: Date.now() - started,
      });
    });
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (spec.body) socket.write(spec.body.payload);
  });
}

// ---------------------------------------------------------------------------------------------

interface Tokens {
  current: Record<Slot, LoggedIn>;
  /** Tokens from earlier refreshes (maybe logged out, rotated or revoked since). */
  old: Record<Slot, LoggedIn>;
}

function resolvePieces(pieces: Piece[], tokens: Tokens): string {
  return pieces
    .map((piece) => {
      if (piece.kind === 'text') return piece.value;
      if (piece.kind === 'sessionId') return tokens.current[piece.slot].sessionId;
      const token = (piece.mutate === 'old' ? tokens.old : tokens.current)[piece.slot].token;
      if (piece.mutate === 'tamper')
        return `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
      if (piece.mutate === 'truncate') return token.slice(0, -5);
      return token;
    })
    .join('');
}

function describeSpec(spec: Spec, path: string, headers: [string, string][]): string {
  const body = spec.body
    ? `${spec.body.contentType ?? '-'} ${spec.body.encoding ?? ''} ${spec.body.payload.length} bytes: ${spec.body.payload.toString('utf8', 0, 200)}`
    : 'no body';
  return `${spec.transport} ${spec.method} ${path.slice(0, 200)} headers ${JSON.stringify(headers).slice(0, 400)} ${body}`;
}

describe('HTTP api fuzz (in-process app, real Redis)', () => {
  let fx: ApiFixture;

  beforeAll(async () => {
    // The rate limiter runs (its Redis path is fuzzed too) but never trips on the fuzz's logins.
    fx = await createApiFixture('fuzz', { LOGIN_RATE_LIMIT: '100000', DOCS_ENABLED: 'true' });
  });
  afterAll(async () => {
    agent.destroy();
    await fx?.close();
  });

  it(`answers ${REQUESTS} random requests without a 5xx or a hang, in the JSON error shape, and stays healthy`, async () => {
    const port = Number(new URL(fx.url).port);
    const started = Date.now();
    const specs = fc.sample(specArb, { seed, numRuns: REQUESTS });
    const generatedMs = Date.now() - started;

    const loginAll = async (): Promise<Record<Slot, LoggedIn>> => ({
      alice: await fx.login('alice'),
      alice2: await fx.login('alice'),
      bob: await fx.login('bob'),
      admin: await fx.login('admin'),
    });
    const first = await loginAll();
    const tokens: Tokens = { current: first, old: first };

    const statuses = new Map<number, number>();
    const failures: string[] = [];
    const nonJsonErrors = new Map<string, number>();
    let done = 0;
    let slowest = 0;
    let next = 0;

    const worker = async (): Promise<void> => {
      while (next < specs.length) {
        const index = next++;
        if (index > 0 && index % REFRESH_EVERY === 0) {
          tokens.old = tokens.current;
          tokens.current = await loginAll();
        }
        const spec = specs[index];
        const path = resolvePieces(spec.path, tokens);
        const headers = spec.headers.map(
          ([name, pieces]) => [name, resolvePieces(pieces, tokens)] as [string, string],
        );
        const what = () => `#${index} ${describeSpec(spec, path, headers)}`;
        let answer: Answer;
        try {
          answer = await (spec.transport === 'raw' ? sendRaw : sendHttp)(port, spec, path, headers);
        } catch (error) {
          failures.push(`${what()} → ${(error as Error).message}`);
          continue;
        } finally {
          done++;
        }
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        slowest = Math.max(slowest, answer.ms);
        if (answer.status >= 500)
          failures.push(`${what()} → ${answer.status} ${answer.body.toString('utf8', 0, 300)}`);
        // The app's own errors are JSON { statusCode, message, error }; Node's HTTP parser answers
        // a request it cannot parse with a bare 400/431 before the app sees it (raw requests only).
        // 431 (headers over Node's 16 KiB limit) comes from Node's HTTP parser, not from the app.
        if (
          spec.transport === 'http' &&
          answer.status >= 400 &&
          answer.status !== 431 &&
          spec.method !== 'HEAD'
        ) {
          let shaped = false;
          try {
            const parsed = JSON.parse(answer.body.toString('utf8')) as {
              statusCode?: unknown;
              message?: unknown;
            };
            shaped = parsed.statusCode === answer.status && parsed.message !== undefined;
          } catch {
            shaped = false;
          }
          if (!shaped) {
            const key = `${answer.status} ${spec.method} ${String(answer.headers['content-type'])}`;
            nonJsonErrors.set(key, (nonJsonErrors.get(key) ?? 0) + 1);
            if ((nonJsonErrors.get(key) ?? 0) <= 2)
              failures.push(
                `${what()} → ${answer.status} not in the JSON error shape: ${answer.body.toString('utf8', 0, 200)}`,
              );
          }
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const elapsed = Date.now() - started;

    // Afterwards: healthy, a login works, its session works, and the server counted no 5xx.
    await fx.http().get('/health').expect(200);
    const after = await fx.login('alice');
    await fx.http().get('/auth/me').set('Authorization', `Bearer ${after.token}`).expect(200);
    const metrics = (await fx.http().get('/metrics').expect(200)).text;
    const server5xx = metrics
      .split('\n')
      .filter((line) => line.startsWith('http_requests_total{') && /status="5\d\d"/.test(line));

    const byStatus = [...statuses.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([s, n]) => `${s}: ${n}`);
    console.log(
      `api fuzz, seed ${seed} (rerun with FUZZ_SEED=${seed}): ${done} requests ` +
        `(${specs.filter((s) => s.transport === 'raw').length} raw) in ${elapsed} ms ` +
        `(generation ${generatedMs} ms), slowest ${slowest} ms\n  statuses ${byStatus.join(', ')}\n` +
        `  error answers not in the JSON shape: ${JSON.stringify([...nonJsonErrors])}\n` +
        `  failures ${failures.length}${failures.length ? `:\n  ${failures.slice(0, 20).join('\n  ')}` : ''}`,
    );
    expect(done).toBeGreaterThanOrEqual(REQUESTS);
    expect(failures).toEqual([]);
    expect(server5xx).toEqual([]);
    expect([...statuses.keys()].filter((s) => s >= 500)).toEqual([]);
    // The fuzz reached the app's answers, not only its front door.
    for (const status of [200, 201, 204, 400, 401, 403, 404, 413])
      expect(statuses.get(status) ?? 0).toBeGreaterThan(0);
  });
});
