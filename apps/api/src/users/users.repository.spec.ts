import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError } from '../config';
import { hashPasswordSync } from './password-hash';
import { resolveDemoUsersFile, UsersRepository } from './users.repository';

const REPO_ROOT = resolve(__dirname, '../../../..');
const DEMO = join(REPO_ROOT, 'apps/api/demo-users.json');

function usersFile(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'api-users-'));
  const file = join(dir, 'users.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

describe('resolveDemoUsersFile', () => {
  it('finds apps/api/demo-users.json from the source folder', () => {
    expect(resolveDemoUsersFile(join(REPO_ROOT, 'apps/api/src/users'), '/')).toBe(DEMO);
  });

  it('finds it from the build folder (dist/apps/api/apps/api/src/users)', () => {
    expect(resolveDemoUsersFile(join(REPO_ROOT, 'dist/apps/api/apps/api/src/users'), '/')).toBe(
      DEMO,
    );
  });

  it('falls back to the working directory', () => {
    expect(resolveDemoUsersFile('/', REPO_ROOT)).toBe(DEMO);
    expect(resolveDemoUsersFile('/', '/')).toBeUndefined();
  });
});

describe('UsersRepository', () => {
  it('loads the demo users when USERS_FILE is unset', async () => {
    const users = UsersRepository.load(undefined);
    expect(users.size).toBe(3);
    expect(await users.verifyCredentials('alice', 'alice-demo-pass')).toMatchObject({
      roles: ['user'],
    });
    expect(await users.verifyCredentials('bob', 'bob-demo-pass')).toMatchObject({
      roles: ['user'],
    });
    expect(await users.verifyCredentials('admin', 'admin-demo-pass')).toMatchObject({
      roles: ['admin'],
    });
    expect(await users.verifyCredentials('alice', 'bob-demo-pass')).toBeNull();
    expect(await users.verifyCredentials('nobody', 'alice-demo-pass')).toBeNull();
    expect(await users.verifyCredentials('__proto__', 'x')).toBeNull();
  });

  it('loads a USERS_FILE', async () => {
    const file = usersFile([
      {
        userId: 'carol',
        passwordHash: hashPasswordSync('carol-pw', { N: 1024, r: 8, p: 1 }),
        roles: ['user', 'ops'],
      },
    ]);
    const users = UsersRepository.load(file);
    expect(await users.verifyCredentials('carol', 'carol-pw')).toEqual({
      userId: 'carol',
      passwordHash: expect.any(String),
      roles: ['user', 'ops'],
    });
  });

  it.each([
    ['a missing file', null, /cannot read/],
    ['invalid JSON', '{not json', /not valid JSON/],
    ['an object instead of an array', { alice: {} }, /must be a JSON array/],
    ['an entry without userId', [{ passwordHash: 'x', roles: [] }], /entry 0 needs a userId/],
    [
      'a bad hash',
      [{ userId: 'a', passwordHash: 'plain-text', roles: [] }],
      /no valid passwordHash/,
    ],
    [
      'roles that are not strings',
      [{ userId: 'a', passwordHash: hashPasswordSync('x', { N: 1024, r: 8, p: 1 }), roles: [1] }],
      /roles/,
    ],
    [
      'a duplicate user',
      [
        { userId: 'a', passwordHash: hashPasswordSync('x', { N: 1024, r: 8, p: 1 }), roles: [] },
        { userId: 'a', passwordHash: hashPasswordSync('y', { N: 1024, r: 8, p: 1 }), roles: [] },
      ],
      /appears twice/,
    ],
  ])('refuses %s with an error naming USERS_FILE', (_, content, message) => {
    const file =
      content === null ? join(tmpdir(), 'does-not-exist', 'users.json') : usersFile(content);
    let error: unknown;
    try {
      UsersRepository.load(file);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe('USERS_FILE');
    expect((error as Error).message).toMatch(message);
  });
});
