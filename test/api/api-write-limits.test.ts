import { gzipSync } from 'node:zlib';
import { type ApiFixture, createApiFixture, type LoggedIn } from './api-fixture';

const LIMIT = 5;

function tally(statuses: number[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

/** A PATCH with these exact bytes (supertest would JSON-encode a Buffer). */
async function rawPatch(
  fx: ApiFixture,
  token: string,
  body: Buffer,
  encoding?: string,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${fx.url}/sessions/current`, {
    method: 'PATCH',
    headers: {
      'x-session-id': token,
      'content-type': 'application/json',
      ...(encoding ? { 'content-encoding': encoding } : {}),
    },
    body,
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function usedMemory(fx: ApiFixture): Promise<number> {
  const info = await fx.redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

describe('per-session write rate limit (SESSION_WRITE_RATE_LIMIT)', () => {
  let fx: ApiFixture;
  const patch = (f: ApiFixture, who: LoggedIn, data: Record<string, unknown> = { n: 1 }) =>
    f.http().patch('/sessions/current').set('x-session-id', who.token).send({ data });

  beforeEach(async () => {
    fx = await createApiFixture('api-write-limit', { SESSION_WRITE_RATE_LIMIT: String(LIMIT) });
  });
  afterEach(() => fx.close());

  it('answers 429 with Retry-After past the limit, before the write reaches Redis', async () => {
    const alice = await fx.login('alice');
    for (let i = 0; i < LIMIT; i++) await patch(fx, alice, { n: i }).expect(200);
    const refused = await patch(fx, alice, { n: 'refused' }).expect(429);
    expect(refused.body).toEqual({
      statusCode: 429,
      message: 'Too many changes to this session, try again later',
      error: 'Too Many Requests',
    });
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const me = await fx.http().get('/auth/me').set('x-session-id', alice.token).expect(200);
    expect((me.body as { data: { n: unknown } }).data.n).toBe(LIMIT - 1);
    const metrics = await fx.http().get('/metrics');
    expect(metrics.text).toContain('session_write_rate_limited_total 1');
  });

  it('counts rotate and revokes too, and rotating does not buy a fresh bucket', async () => {
    const alice = await fx.login('alice');
    for (let i = 0; i < LIMIT - 1; i++) await patch(fx, alice).expect(200);
    const rotated = await fx
      .http()
      .post('/auth/rotate')
      .set('x-session-id', alice.token)
      .expect(201);
    const token = (rotated.body as { token: string }).token;
    await patch(fx, { ...alice, token }).expect(429);
    await fx.http().post('/sessions/revoke-others').set('x-session-id', token).expect(429);
    await fx.http().post('/auth/rotate').set('x-session-id', token).expect(429);
    // Logout is never limited: a session can always be ended.
    await fx.http().post('/auth/logout').set('x-session-id', token).expect(204);
  });

  it('limits each session on its own: a session over its limit cannot stop another revoking it', async () => {
    const stolen = await fx.login('alice');
    const owner = await fx.login('alice');
    for (let i = 0; i < LIMIT; i++) await patch(fx, stolen).expect(200);
    await patch(fx, stolen).expect(429);
    await patch(fx, owner).expect(200);
    await fx
      .http()
      .delete(`/sessions/${stolen.sessionId}`)
      .set('x-session-id', owner.token)
      .expect(204);
    await fx.http().get('/auth/me').set('x-session-id', stolen.token).expect(401);
  });

  it('holds across api instances sharing Redis', async () => {
    const other = await createApiFixture('api-write-limit-2', {
      SESSION_WRITE_RATE_LIMIT: String(LIMIT),
      SESSION_PREFIX: fx.prefix,
    });
    try {
      const alice = await fx.login('alice');
      const statuses: number[] = [];
      for (let i = 0; i < 2 * LIMIT; i++) {
        statuses.push((await patch(i % 2 ? other : fx, alice)).status);
      }
      expect(tally(statuses)).toEqual({ 200: LIMIT, 429: LIMIT });
    } finally {
      await other.close();
    }
  });
});

describe('request bodies: compressed refused, size bounded (BODY_LIMIT_BYTES)', () => {
  let fx: ApiFixture;

  beforeAll(async () => {
    fx = await createApiFixture('api-bodies', { SESSION_WRITE_RATE_LIMIT: '60' });
  });
  afterAll(() => fx.close());

  /** A session patch deleting `count` keys: the shape the hostile review used. */
  function nullKeysBody(count: number): Buffer {
    const data: Record<string, null> = {};
    for (let i = 0; i < count; i++)
      data[`key-${String(i).padStart(6, '0')}-padding-padding`] = null;
    return Buffer.from(JSON.stringify({ data }));
  }

  it('refuses a 2.2 KB gzip body that would inflate to 100 KB (415), inflating nothing', async () => {
    const alice = await fx.login('alice');
    const plain = Buffer.from(JSON.stringify({ data: { a: 'x'.repeat(100 * 1024) } }));
    const zipped = gzipSync(plain, { level: 9 });
    console.log(`gzip body ${zipped.length} bytes, ${plain.length} inflated`);
    expect(zipped.length).toBeLessThan(2300);
    for (const encoding of ['gzip', 'deflate', 'br', 'GZIP']) {
      const response = await rawPatch(fx, alice.token, zipped, encoding);
      expect(response).toMatchObject({
        status: 415,
        json: { statusCode: 415, error: 'Unsupported Media Type' },
      });
    }
    // Identity is no compression: accepted.
    const plainPatch = Buffer.from('{"data":{"plain":true}}');
    expect((await rawPatch(fx, alice.token, plainPatch, 'identity')).status).toBe(200);
  });

  it('answers a body over BODY_LIMIT_BYTES (32 KiB by default) 413', async () => {
    const alice = await fx.login('alice');
    const response = await fx
      .http()
      .patch('/sessions/current')
      .set('x-session-id', alice.token)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ data: { a: 'x'.repeat(40 * 1024) } }))
      .expect(413);
    expect(response.body).toEqual({
      statusCode: 413,
      message: 'Request body is larger than 32768 bytes',
      error: 'Payload Too Large',
    });
  });

  it('1,000 hostile patches from one session: at most the limit written, the rest 413/415/429, Redis grows by under 1 MB', async () => {
    const alice = await fx.login('alice');
    const bodies = [
      { type: 'gzip', body: gzipSync(nullKeysBody(2000)), encoding: 'gzip' },
      { type: 'oversize', body: nullKeysBody(2000), encoding: undefined },
      { type: 'null keys', body: nullKeysBody(40), encoding: undefined },
    ];
    const before = await usedMemory(fx);
    const statuses: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const { body, encoding } = bodies[i % bodies.length];
      statuses.push((await rawPatch(fx, alice.token, body, encoding)).status);
    }
    const grown = (await usedMemory(fx)) - before;
    const counts = tally(statuses);
    console.log(
      `1,000 hostile patches: ${JSON.stringify(counts)}; Redis used_memory +${grown} bytes ` +
        `(bodies ${bodies.map((b) => `${b.type} ${b.body.length} B`).join(', ')})`,
    );
    // At most the limit's worth of writes got through; everything else was refused cheaply.
    expect(counts[200] ?? 0).toBeLessThanOrEqual(60);
    expect(Object.keys(counts).every((s) => ['200', '400', '413', '415', '429'].includes(s))).toBe(
      true,
    );
    expect(grown).toBeLessThan(1024 * 1024);
  });
});
