import { ChildProcess, spawn } from 'node:child_process';
import { Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInThisContext } from 'node:vm';
import Redis from 'ioredis';
import { freePort } from './free-port';

export interface RedisServerStartOptions {
  /** Extra redis-server arguments, e.g. ['--maxmemory', '1mb']. */
  args?: string[];
  /** Fixed port; a free one is picked when omitted. */
  port?: number;
}

const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;
const OUTPUT_LIMIT = 8_192;
const LIVE_KEY = Symbol.for('test-support.redis-server-process.live');

type ProcessWithRegistry = NodeJS.Process & { [LIVE_KEY]?: Set<ChildProcess> };

// Inside a jest sandbox `process` is a copy whose 'exit' never fires, so the hook goes on the
// real process; the registry lives there too so test files sharing a worker add one listener.
function liveChildren(): Set<ChildProcess> {
  const real = runInThisContext('process') as ProcessWithRegistry;
  let live = real[LIVE_KEY];
  if (!live) {
    const children = new Set<ChildProcess>();
    live = real[LIVE_KEY] = children;
    real.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));
  }
  return live;
}

/** A private, throwaway redis-server (no persistence) for tests that restart or crash Redis. */
export class RedisServerProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output = '';
  private dir: string | undefined;

  private constructor(
    readonly port: number,
    private readonly args: string[],
  ) {}

  static async start(opts: RedisServerStartOptions = {}): Promise<RedisServerProcess> {
    // A picked port can be grabbed by someone else before redis binds it: retry with a new one.
    for (let attempt = 1; ; attempt++) {
      const server = new RedisServerProcess(opts.port ?? (await freePort()), opts.args ?? []);
      try {
        await server.spawnAndWait();
        return server;
      } catch (err) {
        const portRace =
          opts.port === undefined && server.output.includes('Address already in use');
        if (!portRace || attempt >= 3) throw err;
      }
    }
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** SIGTERM, then SIGKILL if the server has not exited after 3 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.exited.finally(() => clearTimeout(timer));
    this.removeDir();
  }

  /** SIGKILL without warning, to simulate a crash. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    // The child is unref'd; this timer keeps the event loop alive until the exit arrives.
    const keepAlive = setInterval(() => undefined, 1_000);
    await this.exited.finally(() => clearInterval(keepAlive));
    this.removeDir();
  }

  /** Freezes the server (SIGSTOP): its connections stay open and nothing answers. */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  /** Undoes freeze() (SIGCONT). */
  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  /** Stops (if running) and starts again on the same port with the same args. Data is lost. */
  async restart(): Promise<void> {
    await this.stop();
    await this.spawnAndWait();
  }

  /**
   * A private, empty working directory per start: a replica re-sync writes an RDB file even with
   * `--save ""`, and a shared directory would hand it to the next server started there.
   */
  private freshDir(): string {
    this.removeDir();
    this.dir = mkdtempSync(join(tmpdir(), 'redis-test-'));
    return this.dir;
  }

  private removeDir(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  private async spawnAndWait(): Promise<void> {
    this.output = '';
    const child = spawn(
      'redis-server',
      [
        ...['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.freshDir()],
        ...['--save', '', '--appendonly', 'no', '--enable-debug-command', 'local'],
        ...this.args,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    const live = liveChildren();
    live.add(child);
    // Registered first so a spawn failure (e.g. ENOENT) wins the race below with its own message.
    const spawnFailed = new Promise<never>((_, reject) => child.once('error', reject));
    this.exited = new Promise<void>((resolve) => {
      const done = (): void => {
        live.delete(child);
        resolve();
      };
      child.once('exit', done).once('error', done);
    });
    // redis logs to stdout, fatal config errors go to stderr: keep the tail of both.
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on('data', (chunk: Buffer) => {
        this.output = (this.output + chunk.toString()).slice(-OUTPUT_LIMIT);
      });
      (stream as Socket | null)?.unref();
    }
    // A server leaked by a test must not keep the jest worker alive; the exit hook kills it.
    child.unref();

    // Reconnects every 50 ms; the queued PING is answered once the server accepts connections.
    const client = new Redis(this.port, '127.0.0.1', {
      retryStrategy: () => 50,
      maxRetriesPerRequest: null,
      disconnectTimeout: 0, // else a refused socket keeps a 2 s timer alive after disconnect()
    });
    client.on('error', () => undefined); // connection refused is expected while booting
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.ping(),
        spawnFailed,
        this.exited.then(() => Promise.reject(new Error('redis-server exited during startup'))),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('no PING reply')), READY_TIMEOUT_MS);
        }),
      ]);
    } catch (err) {
      child.kill('SIGKILL');
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(
        `redis-server on port ${this.port} failed to start (${reason}). Output:\n${this.output}`,
      );
    } finally {
      clearTimeout(timer);
      client.disconnect();
    }
  }
}
