import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

jest.setTimeout(240_000);

const ROOT = join(__dirname, '..', '..');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function healthy(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health`)).ok;
  } catch {
    return false;
  }
}

/**
 * `npm start` from a clean clone of the committed tree (node_modules linked, not reinstalled):
 * it builds, finds no Redis at REDIS_URL, starts a private one, brings up the api and the worker,
 * and stops everything on SIGTERM.
 */
describe('npm start from a clean clone', () => {
  const clone = mkdtempSync(join(tmpdir(), 'sessions-clone-'));
  let child: ChildProcess | undefined;
  let output = '';

  afterAll(() => {
    if (child?.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
    rmSync(clone, { recursive: true, force: true });
  });

  it('builds, starts a private Redis, answers /health on the api and the worker, and stops on SIGTERM', async () => {
    execFileSync('git', ['clone', '--quiet', ROOT, clone]);
    symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');
    const [port, workerPort, closedPort] = await Promise.all([freePort(), freePort(), freePort()]);
    child = spawn('npm', ['start'], {
      cwd: clone,
      env: {
        ...process.env,
        // As a user types it: jest's NODE_ENV=test would keep npm start out of development.
        NODE_ENV: undefined,
        PORT: String(port),
        WORKER_PORT: String(workerPort),
        REDIS_URL: `redis://127.0.0.1:${closedPort}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, like a terminal job: Ctrl-C or `kill -- -pgid` reaches every process.
      detached: true,
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));

    const deadline = Date.now() + 180_000;
    while (!((await healthy(port)) && (await healthy(workerPort)))) {
      if (child.exitCode !== null) throw new Error(`npm start exited:\n${output}`);
      if (Date.now() > deadline) throw new Error(`not healthy in time:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(output).toMatch(/building/);
    expect(output).toMatch(/started a private redis-server/);
    const ping = await (await fetch(`http://127.0.0.1:${port}/ping`)).json();
    expect(ping).toEqual({ pong: true });

    const exited = new Promise<void>((resolve) => child!.once('close', () => resolve()));
    process.kill(-child.pid!, 'SIGTERM');
    await exited;
    expect(output).toMatch(/\[start\] stopping/);
    expect(output).toMatch(/\[start\] stopped \(exit code 0\)/);
    expect(await healthy(port)).toBe(false);
    expect(await healthy(workerPort)).toBe(false);
    // Nothing of this run is left: not the apps, not the private Redis.
    const leftovers = execFileSync('ps', ['-eo', 'args'])
      .toString()
      .split('\n')
      .filter((line) => line.includes(clone));
    expect(leftovers).toEqual([]);
  });
});
