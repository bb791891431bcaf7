import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import request from 'supertest';
import { builtFile } from '../support/built-apps';
import { DEMO_USERS_FILE } from '../support/demo-users';
import {
  deleteKeysWithPrefix,
  newRedisClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/test-redis';

const ROOT = join(__dirname, '../..');
const MAIN = builtFile('apps/api/src/main.ts');

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The built api as its own process, as `npm run start:api` runs it. */
function runMain(env: Record<string, string>): Run {
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('api process (main.ts)', () => {
  it('exits 1 at start-up with a message naming a bad variable', async () => {
    const run = runMain({ REDIS_URL: testRedisUrl(), PORT: '0', SESSION_MAX_PER_USER: 'lots' });
    const { code } = await run.exited;
    expect(code).toBe(1);
    expect(run.output()).toContain(
      'api failed to start: Invalid environment variable SESSION_MAX_PER_USER',
    );
  });

  it('refuses to start without USERS_FILE in production, with one line saying what to do', async () => {
    const run = runMain({ REDIS_URL: testRedisUrl(), PORT: '0', NODE_ENV: 'production' });
    const { code } = await run.exited;
    expect(code).toBe(1);
    expect(run.output()).toMatch(
      /^api failed to start: Invalid environment variable USERS_FILE: is required unless NODE_ENV=development[^\n]*set USERS_FILE[^\n]*\n$/,
    );
  });

  it('serves the demo users without USERS_FILE only with NODE_ENV=development, and says so', async () => {
    const prefix = uniquePrefix('api-dev-users');
    const run = runMain({
      REDIS_URL: testRedisUrl(),
      PORT: '0',
      SESSION_PREFIX: prefix,
      NODE_ENV: 'development',
    });
    try {
      const url = await waitFor(
        () => /api listening on (http:\/\/[^\s"]+)/.exec(run.output())?.[1],
        20_000,
      );
      await request(url)
        .post('/auth/login')
        .send({ userId: 'alice', password: 'alice-demo-pass' })
        .expect(201);
      expect(run.output()).toContain('USERS_FILE unset: the demo users of');
    } finally {
      run.child.kill('SIGKILL');
      const redis = newRedisClient();
      await deleteKeysWithPrefix(redis, prefix);
      await redis.quit();
    }
  });

  it('serves /ping and /health, then drains and exits on SIGTERM', async () => {
    const prefix = uniquePrefix('api-process');
    const run = runMain({
      REDIS_URL: testRedisUrl(),
      PORT: '0',
      SESSION_PREFIX: prefix,
      LOG_LEVEL: 'info',
      USERS_FILE: DEMO_USERS_FILE,
    });
    try {
      const url = await waitFor(
        () => /api listening on (http:\/\/[^\s"]+)/.exec(run.output())?.[1],
        20_000,
      );
      await request(url).get('/ping').expect(200, { pong: true });
      await request(url).get('/health').expect(200);
      const login = await request(url)
        .post('/auth/login')
        .send({ userId: 'alice', password: 'alice-demo-pass' })
        .expect(201);
      // Not configured: NODE_ENV unset means production, so the cookie is Secure.
      expect(String(login.headers['set-cookie'])).toContain('Secure');

      run.child.kill('SIGTERM');
      const { code, signal } = await run.exited;
      // Nest re-raises the signal after closing, so the process ends by SIGTERM, not by a crash.
      expect(signal === 'SIGTERM' || code === 0).toBe(true);
      expect(run.output()).toContain('Shutting down on SIGTERM');
      expect(run.output()).not.toMatch(/"level":50/);
    } finally {
      run.child.kill('SIGKILL');
      const redis = newRedisClient();
      await deleteKeysWithPrefix(redis, prefix);
      await redis.quit();
    }
  });
});
