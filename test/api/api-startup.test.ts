import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../apps/api/src/app.factory';
import { loadConfig } from '../../apps/api/src/config';
import { hashPasswordSync } from '../../apps/api/src/users/password-hash';
import { testRedisUrl, uniquePrefix } from '../support/test-redis';
import { createApiFixture } from './api-fixture';

function writeUsers(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'api-users-')), 'users.json');
  writeFileSync(file, content);
  return file;
}

describe('api start-up', () => {
  it('logs in the users of USERS_FILE instead of the demo users', async () => {
    const file = writeUsers(
      JSON.stringify([
        {
          userId: 'carol',
          passwordHash: hashPasswordSync('carol-pw', { N: 1024, r: 8, p: 1 }),
          roles: ['user', 'ops'],
        },
      ]),
    );
    const fx = await createApiFixture('api-users-file', { USERS_FILE: file });
    try {
      const response = await fx
        .http()
        .post('/auth/login')
        .send({ userId: 'carol', password: 'carol-pw' })
        .expect(201);
      expect(response.body).toMatchObject({ userId: 'carol', roles: ['user', 'ops'] });
      await fx
        .http()
        .post('/auth/login')
        .send({ userId: 'alice', password: 'alice-demo-pass' })
        .expect(401);
    } finally {
      await fx.close();
    }
  });

  it('refuses to start with a broken USERS_FILE, naming the variable', async () => {
    const config = loadConfig({
      REDIS_URL: testRedisUrl(),
      SESSION_PREFIX: uniquePrefix('api-bad-users'),
      USERS_FILE: writeUsers('[{"userId": "x", "passwordHash": "plain", "roles": []}]'),
      LOG_LEVEL: 'silent',
    });
    await expect(createApp(config)).rejects.toThrow(
      /^Invalid environment variable USERS_FILE: .*no valid passwordHash/,
    );
  });
});
