import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { builtFile } from './built-apps';
import { DEMO_USERS_FILE } from './demo-users';
import { freePort } from './free-port';
import { testHttpAdapter } from './http-adapters';

const ROOT = join(__dirname, '..', '..');

const APPS = {
  api: { entry: 'apps/api/src/main.ts', portVariable: 'PORT', built: true },
  worker: { entry: 'apps/worker/src/main.ts', portVariable: 'WORKER_PORT', built: true },
  // A small app with a WebSocket gateway on the session library (test/websocket): a test
  // fixture, not part of the build, so run from source with ts-node.
  gateway: { entry: 'test/websocket/fixtures/gateway-app.ts', portVariable: 'PORT', built: false },
} as const;

/**
 * An app as a real process, started as a user starts it: the api and the worker from `dist/`
 * (kept current by the test harness's global setup), a fixture app from source.
 */
export class AppProcess {
  output = '';

  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  static async start(
    app: keyof typeof APPS,
    name: string,
    env: Record<string, string>,
    /** A built release to run instead (its repository root, holding `dist/`), e.g. an older one. */
    builtRoot?: string,
  ): Promise<AppProcess> {
    const port = await freePort();
    const { entry, portVariable, built } = APPS[app];
    const args = builtRoot
      ? [join(builtRoot, 'dist', 'apps', app, entry.replace(/\.ts$/, '.js'))]
      : built
        ? [builtFile(entry)]
        : [
            '-r',
            'ts-node/register/transpile-only',
            '-r',
            'tsconfig-paths/register',
            join(ROOT, entry),
          ];
    const child = spawn(process.execPath, args, {
      cwd: builtRoot ?? ROOT,
      env: {
        ...process.env,
        TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
        [portVariable]: String(port),
        // The api's per-session write limit would turn a load test's writes into 429s.
        ...(app === 'worker'
          ? { WORKER_CONSUMER_NAME: name }
          : {
              USERS_FILE: DEMO_USERS_FILE,
              SESSION_WRITE_RATE_LIMIT: '0',
              HTTP_ADAPTER: testHttpAdapter(),
            }),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const worker = new AppProcess(name, port, child);
    const deadline = Date.now() + 60_000;
    while (!(await worker.healthy())) {
      if (child.exitCode !== null)
        throw new Error(`${name} exited (${child.exitCode}):\n${worker.output}`);
      if (Date.now() > deadline) throw new Error(`${name} not healthy in 60 s:\n${worker.output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return worker;
  }

  async healthy(): Promise<boolean> {
    try {
      return (await fetch(`http://127.0.0.1:${this.port}/health`)).ok;
    } catch {
      return false;
    }
  }

  async metrics(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${this.port}/metrics`)).text();
  }

  /** The signal that ended the process (null while alive or after a normal exit). */
  get exitSignal(): NodeJS.Signals | null {
    return this.child.signalCode;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends a signal and waits for the exit; SIGKILL after `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<number | null> {
    if (!this.alive) return this.child.exitCode;
    const exited = new Promise<number | null>((resolve) =>
      this.child.once('exit', (code) => resolve(code)),
    );
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }
}
