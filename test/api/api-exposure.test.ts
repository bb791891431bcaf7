import { type ApiFixture, createApiFixture } from './api-fixture';

const TOKEN = 'ops-token-0123456789abcdef';
const basic = (password: string) => `Basic ${Buffer.from(`ops:${password}`).toString('base64')}`;

function expectSecurityHeaders(headers: Record<string, string>): void {
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['strict-transport-security']).toMatch(/max-age=\d+/);
  expect(headers['cross-origin-opener-policy']).toBe('same-origin');
  expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
}

describe('security headers and operations endpoints (production-like defaults)', () => {
  let fx: ApiFixture;

  beforeAll(async () => {
    fx = await createApiFixture('api-exposure');
  });
  afterAll(() => fx.close());

  it('puts helmet security headers and a deny-all CSP on every answer, errors included', async () => {
    const answers = [
      await fx.http().get('/ping').expect(200),
      await fx.http().get('/health').expect(200),
      await fx.http().get('/metrics').expect(200),
      await fx.http().get('/auth/me').expect(401),
      await fx.http().get('/nowhere').expect(404),
      await fx
        .http()
        .post('/auth/login')
        .set('content-type', 'application/json')
        .send('{"userId":')
        .expect(400),
      await fx
        .http()
        .post('/auth/login')
        .set('content-type', 'application/json')
        .send(`{"x":"${'a'.repeat(200_000)}"}`)
        .expect(413),
    ];
    for (const answer of answers) {
      expectSecurityHeaders(answer.headers);
      expect(answer.headers['content-security-policy']).toContain("default-src 'none'");
    }
  });

  it('serves no /docs outside development unless DOCS_ENABLED', async () => {
    await fx.http().get('/docs').expect(404);
    await fx.http().get('/docs/').expect(404);
    await fx.http().get('/docs-json').expect(404);
  });
});

describe('/docs under its CSP', () => {
  let fx: ApiFixture;

  beforeAll(async () => {
    fx = await createApiFixture('api-docs-csp', { DOCS_ENABLED: 'true' });
  });
  afterAll(() => fx.close());

  it('allows exactly what Swagger UI loads: its own scripts and styles, no inline script', async () => {
    const page = await fx.http().get('/docs').redirects(1).expect(200);
    expectSecurityHeaders(page.headers);
    const csp = page.headers['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
    const scripts = [...page.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(body.trim()).toBe(''); // an inline script would be blocked by script-src 'self'
      const src = /src=["']([^"']+)["']/.exec(attributes)?.[1] ?? '';
      expect(src).not.toMatch(/^(https?:)?\/\//); // same origin
      await fx
        .http()
        .get(new URL(src, `${fx.url}/docs`).pathname)
        .expect(200);
    }
  });
});

describe('operations endpoints switched off or behind a token', () => {
  it('answers 404 on /metrics with METRICS_ENABLED=false', async () => {
    const fx = await createApiFixture('api-metrics-off', { METRICS_ENABLED: 'false' });
    try {
      await fx.http().get('/metrics').expect(404);
      await fx.http().get('/ping').expect(200);
    } finally {
      await fx.close();
    }
  });

  it('asks for METRICS_TOKEN and DOCS_TOKEN (Bearer, or Basic for a browser)', async () => {
    const fx = await createApiFixture('api-ops-token', {
      METRICS_TOKEN: TOKEN,
      DOCS_ENABLED: 'true',
      DOCS_TOKEN: TOKEN,
    });
    try {
      for (const path of ['/metrics', '/docs', '/docs-json']) {
        const refused = await fx.http().get(path).expect(401);
        expect(refused.headers['www-authenticate']).toMatch(/^Basic realm=/);
        await fx.http().get(path).set('Authorization', `Bearer ${TOKEN}x`).expect(401);
        await fx.http().get(path).set('Authorization', basic('wrong-token-0123456789')).expect(401);
        await fx.http().get(path).set('Authorization', `Bearer ${TOKEN}`).redirects(1).expect(200);
        await fx.http().get(path).set('Authorization', basic(TOKEN)).redirects(1).expect(200);
      }
      // Health stays open: load balancers and orchestrators probe it without credentials.
      await fx.http().get('/health').expect(200);
    } finally {
      await fx.close();
    }
  });
});
