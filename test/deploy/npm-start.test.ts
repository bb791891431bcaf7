import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/free-port';
import { sleep } from '../support/sleep';

jest.setTimeout(300_000);

const ROOT = join(__dirname, '..', '..');

async function healthy(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health`)).ok;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** One `npm start` run, as a terminal job: its own process group, output collected. */
class NpmStart {
  output = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(
    cwd: string,
    readonly port: number,
    readonly workerPort: number,
    env: Record<string, string | undefined>,
  ) {
    this.child = spawn('npm', ['start'], {
      cwd,
      // As a user types it: jest's NODE_ENV=test would keep npm start out of development.
      env: {
        ...process.env,
        NODE_ENV: undefined,
        PORT: String(port),
        WORKER_PORT: String(workerPort),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('close', (code) => resolve(code)));
  }

  static async start(cwd: string, env: Record<string, string | undefined> = {}) {
    const [port, workerPort] = await Promise.all([freePort(), freePort()]);
    return new NpmStart(cwd, port, workerPort, env);
  }

  async untilHealthy(): Promise<void> {
    const deadline = Date.now() + 240_000;
    while (!((await healthy(this.port)) && (await healthy(this.workerPort)))) {
      if (this.child.exitCode !== null) throw new Error(`npm start exited:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`not healthy in time:\n${this.output}`);
      await sleep(250);
    }
  }

  /** The pids npm start reported for the api, the worker and the private Redis. */
  pids(): { api: number; worker: number; redis: number | null } {
    const pid = (pattern: RegExp) => Number(pattern.exec(this.output)?.[1] ?? NaN);
    const redis = pid(/private redis-server at \S+ \(pid (\d+)/);
    return {
      api: pid(/docs at \/docs, pid (\d+)\)/),
      worker: pid(/worker health on :\d+ \(pid (\d+)\)/),
      redis: Number.isNaN(redis) ? null : redis,
    };
  }

  /** A signal to the whole job (what the terminal sends), or to npm start's group leader only. */
  signal(signal: NodeJS.Signals): void {
    process.kill(-this.child.pid!, signal);
  }

  killGroup(): void {
    if (this.child.exitCode === null) {
      try {
        process.kill(-this.child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

/** `npm start` from a clean clone of the committed tree (node_modules linked, not reinstalled). */
describe('npm start from a clean clone', () => {
  const clone = mkdtempSync(join(tmpdir(), 'sessions-clone-'));
  const runs: NpmStart[] = [];
  const start = async (env: Record<string, string | undefined> = {}) => {
    const run = await NpmStart.start(clone, env);
    runs.push(run);
    return run;
  };
  const closedRedis = async () => `redis://127.0.0.1:${await freePort()}`;

  beforeAll(() => {
    execFileSync('git', ['clone', '--quiet', ROOT, clone]);
    symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');
  });
  afterAll(() => {
    for (const run of runs) run.killGroup();
    rmSync(clone, { recursive: true, force: true });
  });

  /** Every process the run reported is gone, and nothing runs from the clone. */
  function expectNoLeftovers(run: NpmStart): void {
    const { api, worker, redis } = run.pids();
    for (const pid of [api, worker, redis].filter((p): p is number => p !== null))
      expect({ pid, alive: alive(pid) }).toEqual({ pid, alive: false });
    const fromClone = execFileSync('ps', ['-eo', 'args'])
      .toString()
      .split('\n')
      .filter((line) => line.includes(clone));
    expect(fromClone).toEqual([]);
  }

  it('builds, starts a private Redis, answers /health on the api and the worker, and stops on SIGTERM', async () => {
    const run = await start({ REDIS_URL: await closedRedis() });
    await run.untilHealthy();
    expect(run.output).toMatch(/no build found: building/);
    expect(run.output).toMatch(/started a private redis-server/);
    const ping = await (await fetch(`http://127.0.0.1:${run.port}/ping`)).json();
    expect(ping).toEqual({ pong: true });
    const { redis } = run.pids();
    // Redis runs in its own process group: a Ctrl-C in the terminal does not reach it.
    expect(
      execFileSync('ps', ['-o', 'pgid=', '-p', String(redis)])
        .toString()
        .trim(),
    ).toBe(String(redis));

    run.signal('SIGTERM');
    await run.exited; // npm's own code after a signal to the job is npm's; start.js says its own
    expect(run.output).toMatch(/\[start\] stopping \(received SIGTERM\)/);
    expect(run.output).toMatch(/\[start\] stopped \(exit code 0\)/);
    expect(await healthy(run.port)).toBe(false);
    expect(await healthy(run.workerPort)).toBe(false);
    expectNoLeftovers(run);
  });

  it('Ctrl-C: the apps drain first, the private Redis is stopped last, the build is not redone', async () => {
    const run = await start({ REDIS_URL: await closedRedis() });
    await run.untilHealthy();
    expect(run.output).not.toMatch(/building/);
    run.signal('SIGINT'); // the terminal sends it to the foreground group, Redis is not in it
    await run.exited;
    // The apps stopped while Redis still ran (the signal did not reach it), then Redis.
    const order = [
      /\[start\] stopping \(received SIGINT\)/,
      /\[start\] apps stopped; stopping the private Redis \(pid \d+, still running\)/,
      /\[start\] stopped \(exit code 0\)/,
    ].map((pattern) => run.output.search(pattern));
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expectNoLeftovers(run);
  });

  it('closing the terminal (SIGHUP) stops everything, the private Redis and its folder included', async () => {
    const run = await start({ REDIS_URL: await closedRedis() });
    await run.untilHealthy();
    const dir = /--dir (\S+)/.exec(
      execFileSync('ps', ['-o', 'args=', '-p', String(run.pids().redis)]).toString(),
    )?.[1];
    run.signal('SIGHUP');
    await run.exited;
    expect(run.output).toMatch(/stopping \(received SIGHUP\)/);
    expect(run.output).toMatch(/\[start\] stopped \(exit code 0\)/);
    expectNoLeftovers(run);
    if (dir) expect(existsSync(dir)).toBe(false);
  });

  it('the private Redis killed while the apps run: says so, stops the apps, exits non-zero', async () => {
    const run = await start({ REDIS_URL: await closedRedis() });
    await run.untilHealthy();
    process.kill(run.pids().redis!, 'SIGKILL');
    const code = await run.exited;
    expect(run.output).toMatch(/the private Redis exited \(signal SIGKILL\)/);
    expect(code).not.toBe(0);
    expect(run.output).toMatch(/stopped \(exit code 1\)/);
    expectNoLeftovers(run);
  });

  it('an app that dies stops the others with a non-zero exit code', async () => {
    const run = await start({ REDIS_URL: await closedRedis() });
    await run.untilHealthy();
    process.kill(run.pids().worker, 'SIGKILL');
    expect(await run.exited).toBe(1);
    expect(run.output).toMatch(/the worker exited unexpectedly \(signal SIGKILL\)/);
    expectNoLeftovers(run);
  });

  it('a TLS or Cluster Redis is used as configured, never replaced by a private one', async () => {
    for (const env of [
      { REDIS_URL: 'rediss://127.0.0.1:1' },
      { REDIS_CLUSTER_NODES: '127.0.0.1:1,127.0.0.1:2' },
    ]) {
      const run = await start(env);
      const deadline = Date.now() + 60_000;
      while (!/\[start\] api on/.test(run.output) && Date.now() < deadline) await sleep(100);
      expect(run.output).toMatch(/using (the Redis Cluster|rediss:)/);
      expect(run.output).not.toMatch(/private redis-server/);
      run.signal('SIGTERM');
      await run.exited;
      expectNoLeftovers(run);
    }
  });

  it('a changed build input (package.json) or a deleted Lua script triggers a clean build', async () => {
    const script = join(clone, 'libs/session/src/scripts/unindexSession-2.lua');
    const generated = join(clone, 'libs/session/src/scripts/embedded-scripts.generated.ts');
    // The scripts are embedded in the compiled library (npm run build re-embeds them first).
    const built = (root: string) =>
      readFileSync(
        join(root, 'dist/apps/api/libs/session/src/scripts/embedded-scripts.generated.js'),
        'utf8',
      );
    expect(built(clone)).toContain('unindexSession-2.lua');
    const now = new Date();
    utimesSync(join(clone, 'package.json'), now, now);
    unlinkSync(script);
    const run = await start({ REDIS_URL: await closedRedis() });
    // The api cannot start without the script: what matters is that the build ran and re-embedded.
    const deadline = Date.now() + 240_000;
    while (!/\[start\] (api on|stopped)/.test(run.output) && Date.now() < deadline)
      await sleep(250);
    expect(run.output).toMatch(/build inputs changed: building/);
    expect(built(clone)).not.toContain('unindexSession-2.lua');
    run.signal('SIGTERM');
    await run.exited;
    execFileSync('git', ['checkout', '--', script, generated], { cwd: clone });
  });

  it('SIGTERM during the build stops the build and exits without starting anything', async () => {
    utimesSync(join(clone, 'package.json'), new Date(), new Date());
    const run = await start({ REDIS_URL: await closedRedis() });
    const deadline = Date.now() + 60_000;
    while (!/building/.test(run.output) && Date.now() < deadline) await sleep(50);
    await sleep(500);
    run.signal('SIGTERM');
    await run.exited;
    expect(run.output).toMatch(/stopping \(received SIGTERM\)/);
    expect(run.output).not.toMatch(/api on http/);
    expectNoLeftovers(run);
  });
});
