import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import {
  deleteKeysWithPrefix,
  newRedisClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/test-redis';

/**
 * The README's Fastify bootstrap, with the library example as its AppModule (both pasted as is;
 * only the Redis URL, a key prefix and the import path are swapped), must serve a login, set the
 * cookie through Fastify's reply, and answer /me; a refused session error is a 4xx, not a 500.
 */
const ROOT = join(__dirname, '..', '..');
const MODULE = join(__dirname, 'generated-readme-fastify-module.ts');
const BOOTSTRAP = join(__dirname, 'generated-readme-fastify-main.ts');

function tsBlocks(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The library: `libs/session`'));
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]);
}

describe('The README Fastify setup', () => {
  const prefix = uniquePrefix('readme-fastify');
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    const blocks = tsBlocks();
    const moduleSource = blocks[0].replace(
      "{ redis: { url: 'redis://127.0.0.1:6379' } }",
      `{ redis: { url: '${testRedisUrl()}' }, keyPrefix: '${prefix}' }`,
    );
    const bootstrapSource = blocks.find((block) => block.includes('FastifyAdapter'));
    expect(moduleSource).toContain(prefix);
    expect(bootstrapSource).toContain("from './app.module'");
    writeFileSync(MODULE, moduleSource);
    writeFileSync(
      BOOTSTRAP,
      (bootstrapSource ?? '').replace("'./app.module'", "'./generated-readme-fastify-module'"),
    );
    const { bootstrap } = (await import(BOOTSTRAP)) as {
      bootstrap(port: number): Promise<INestApplication>;
    };
    app = await bootstrap(0);
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(async () => {
    rmSync(MODULE, { force: true });
    rmSync(BOOTSTRAP, { force: true });
    await app?.close();
    const redis = newRedisClient();
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  });

  it('runs on Fastify: login sets the cookie, /me answers with it, 401 without', async () => {
    expect(app.getHttpAdapter().getType()).toBe('fastify');
    const login = await fetch(`${url}/login`, { method: 'POST' });
    expect(login.status).toBe(201);
    const [cookie] = login.headers.getSetCookie();
    expect(cookie).toMatch(/^__Host-session_id=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; Secure/);
    const { token } = (await login.json()) as { token: string };
    const me = await fetch(`${url}/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ userId: 'alice', data: { roles: ['user'] } });
    expect((await fetch(`${url}/me`)).status).toBe(401);
  });

  it('answers the admin route 403 to a user, in Nest’s error shape', async () => {
    const login = await fetch(`${url}/login`, { method: 'POST' });
    const { token } = (await login.json()) as { token: string };
    const refused = await fetch(`${url}/admin/revoke-all`, {
      method: 'POST',
      headers: { 'x-session-id': token },
    });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ statusCode: 403, error: 'Forbidden' });
  });
});
