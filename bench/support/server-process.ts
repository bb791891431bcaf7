import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { sleep } from './format';

export const ROOT = join(__dirname, '..', '..');
const START_TIMEOUT_MS = 60_000;
const CLOCK_TICKS_PER_SECOND = 100;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface ServerOptions {
  /**
   * Entry file relative to the repository root: a `.ts` source run with ts-node (the peers), or a
   * built `.js` run with plain node, as `npm run start:api` runs apps/api.
   */
  entry: string;
  env: Record<string, string>;
  /** Answers 200 once the server is ready (e.g. /health, /ping). */
  readyPath: string;
  /** Loads bench/support/cpu-profile-hook.ts: SIGUSR2 starts, then stops and writes a profile. */
  cpuProfileFile?: string;
}

/**
 * An HTTP server under test as its own process (PORT on a free port): apps/api built, as the
 * README starts it; the peers from source with ts-node transpile-only (compiled once at start-up).
 */
export class ServerProcess {
  private output = '';

  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString()).slice(-16_384);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  static async start(name: string, options: ServerOptions): Promise<ServerProcess> {
    const port = await freePort();
    const hook = options.cpuProfileFile ? ['-r', join(__dirname, 'cpu-profile-hook.ts')] : [];
    // ts-node only where a TypeScript file is loaded: the source entry, or the profiler hook.
    const tsNode =
      options.entry.endsWith('.ts') || hook.length > 0
        ? ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register']
        : [];
    const child = spawn(process.execPath, [...tsNode, ...hook, join(ROOT, options.entry)], {
      cwd: ROOT,
      env: {
        ...process.env,
        TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
        PORT: String(port),
        ...(options.cpuProfileFile ? { BENCH_CPU_PROFILE_FILE: options.cpuProfileFile } : {}),
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = new ServerProcess(name, port, child);
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await server.answers(options.readyPath))) {
      if (child.exitCode !== null) throw new Error(`${name} exited:\n${server.output}`);
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`${name} not ready in ${START_TIMEOUT_MS} ms:\n${server.output}`);
      }
      await sleep(100);
    }
    return server;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** CPU seconds (user + system) the process has used so far, from /proc. */
  cpuSeconds(): number {
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  }

  /** Starts (first call) or stops and writes (second call) the CPU profile; see cpu-profile-hook. */
  async toggleProfile(marker: 'started' | 'written'): Promise<void> {
    const before = this.output.split(`cpu-profile: ${marker}`).length;
    this.child.kill('SIGUSR2');
    const deadline = Date.now() + 30_000;
    while (this.output.split(`cpu-profile: ${marker}`).length === before) {
      if (Date.now() > deadline) throw new Error(`${this.name}: no "${marker}" from the profiler`);
      await sleep(20);
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  private async answers(path: string): Promise<boolean> {
    try {
      return (await fetch(this.url(path))).ok;
    } catch {
      return false;
    }
  }
}
