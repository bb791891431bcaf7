import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { INestApplication, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { SessionErrorFilter } from '@app/session';
import {
  deleteKeysWithPrefix,
  newRedisClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/test-redis';

/**
 * The README's library example, pasted as is into a module of this monorepo (only the Redis URL
 * and a key prefix are swapped for the test's), must compile and work: log in, read /me.
 */
const ROOT = join(__dirname, '..', '..');
const GENERATED = join(__dirname, 'generated-readme-example.ts');

function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The library: `libs/session`'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('No ```ts block in the README library section');
  return match[1];
}

describe('The README example', () => {
  const prefix = uniquePrefix('readme');
  let app: INestApplication;

  beforeAll(async () => {
    const source = readmeExample().replace(
      "{ redis: { url: 'redis://127.0.0.1:6379' } }",
      `{ redis: { url: '${testRedisUrl()}' }, keyPrefix: '${prefix}' }`,
    );
    expect(source).toContain(prefix);
    writeFileSync(GENERATED, source);
    const { AppModule } = (await import(GENERATED)) as { AppModule: Type };
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    app.useGlobalFilters(new SessionErrorFilter());
    await app.init();
  });
  afterAll(async () => {
    rmSync(GENERATED, { force: true });
    await app?.close();
    const redis = newRedisClient();
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  });

  it('logs in, sets a secure session cookie and serves /me with it', async () => {
    const login = await request(app.getHttpServer()).post('/login').expect(201);
    expect(login.body).toEqual({ token: expect.any(String), csrfToken: expect.any(String) });
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toMatch(
      /^__Host-session_id=[^;]+; Max-Age=86(399|400); Path=\/; HttpOnly; Secure; SameSite=Lax/,
    );
    const me = await request(app.getHttpServer())
      .get('/me')
      .set('Authorization', `Bearer ${login.body.token}`)
      .expect(200);
    expect(me.body).toMatchObject({ userId: 'alice', data: { roles: ['user'] } });
    await request(app.getHttpServer()).get('/me').expect(401);
  });

  it('keeps the admin route for admins', async () => {
    const login = await request(app.getHttpServer()).post('/login').expect(201);
    await request(app.getHttpServer())
      .post('/admin/revoke-all')
      .set('x-session-id', login.body.token)
      .expect(403);
  });
});
