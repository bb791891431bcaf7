import { type ChildProcess, spawn } from 'node:child_process';
import Redis from 'ioredis';
import { SessionKeys } from '@app/session';
import { builtFile } from '../support/built-apps';
import { waitUntil } from '../support/eventually';
import { RedisServerProcess } from '../support/redis-server-process';
import { uniquePrefix } from '../support/test-redis';

jest.setTimeout(120_000);

const SHUTDOWN_TIMEOUT_MS = 3000;
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/;

interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npm run worker:rebuild -- --check`, built, output kept apart. */
function runCheck(env: Record<string, string>): Run {
  const child = spawn(
    process.execPath,
    [builtFile('apps/worker/src/rebuild/rebuild.ts'), '--check'],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const run: Run = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    ),
  };
  child.stdout?.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
  return run;
}

/** The log lines on stderr (the progress bar aside) must all be JSON. */
function logLines(stderr: string): Record<string, unknown>[] {
  const lines = stderr.split('\n').filter((line) => line.trim() && !/^check \[/.test(line));
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

/**
 * The command-line tool logs like the apps (pino JSON lines, LOG_LEVEL; on stderr, so stdout is
 * its report alone) and stops on SIGTERM within the worker's shutdown timeout, here with Redis
 * frozen under it, saying it was interrupted.
 */
describe('worker:rebuild as a process', () => {
  let redis: RedisServerProcess;

  beforeAll(async () => {
    redis = await RedisServerProcess.start();
  });
  afterAll(async () => {
    redis.thaw();
    await redis.stop();
  });

  it('logs JSON lines on stderr and prints only its report on stdout', async () => {
    const run = runCheck({
      REDIS_URL: redis.url,
      SESSION_PREFIX: uniquePrefix('cli-log'),
      LOG_LEVEL: 'info',
    });
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(JSON.parse(run.stdout)).toMatchObject({ mode: 'check', differenceCount: 0 });
    expect(run.stderr).not.toMatch(ANSI);
    const lines = logLines(run.stderr);
    expect(
      lines.some(
        (line) => line.msg === 'worker:rebuild running; SIGTERM or SIGINT stops it within 8000 ms',
      ),
    ).toBe(true);
    for (const line of lines)
      expect(line).toEqual(
        expect.objectContaining({ level: expect.any(Number), pid: run.child.pid }),
      );
  });

  it('honours LOG_LEVEL', async () => {
    const run = runCheck({
      REDIS_URL: redis.url,
      SESSION_PREFIX: uniquePrefix('cli-warn'),
      LOG_LEVEL: 'warn',
    });
    expect((await run.exited).code).toBe(0);
    expect(logLines(run.stderr).filter((line) => (line.level as number) < 40)).toEqual([]);
  });

  it('stops on SIGTERM within its shutdown timeout, with Redis frozen', async () => {
    // An event no worker applies: the check waits for the worker to reach it (--wait-seconds,
    // 30 s), so the tool is still at work when the signal comes, however fast the machine.
    const prefix = uniquePrefix('cli-term');
    const seed = new Redis(redis.url);
    await seed.xadd(
      new SessionKeys(prefix, 16).events(0),
      '*',
      'pattern',
      'session.created',
      'data',
      '{}',
    );
    seed.disconnect();
    const run = runCheck({
      REDIS_URL: redis.url,
      SESSION_PREFIX: prefix,
      LOG_LEVEL: 'info',
      WORKER_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    });
    try {
      await waitUntil(() => run.stderr.includes('worker:rebuild running'), 60_000, 20);
      redis.freeze();
      const started = Date.now();
      run.child.kill('SIGTERM');
      const timer = setTimeout(() => run.child.kill('SIGKILL'), SHUTDOWN_TIMEOUT_MS + 2000);
      const { code, signal } = await run.exited;
      clearTimeout(timer);
      console.log(
        `worker:rebuild with Redis frozen: SIGTERM → exit ${code ?? signal} in ${Date.now() - started} ms`,
      );
      // 143 after a clean stop, 1 from the deadline: either way on its own, not killed.
      expect({ signal, interrupted: run.stderr.includes('interrupted by SIGTERM') }).toEqual({
        signal: null,
        interrupted: true,
      });
      expect([143, 1]).toContain(code);
    } finally {
      redis.thaw();
      run.child.kill('SIGKILL');
    }
  });
});
