import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import type { SessionModuleOptions } from '@app/session';

interface Reply {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

const ROOT = join(__dirname, '..', '..');

/** A session-library instance in a child process (see fixtures/session-instance.ts). */
export class InstanceProcess {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve(value: unknown): void; reject(error: Error): void }
  >();

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    child.on('message', (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(new Error(`${name}: ${reply.error}`));
    });
    child.on('exit', () => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`${name} exited`));
      this.pending.clear();
    });
  }

  /**
   * Forks `script` (default: fixtures/session-instance.ts; the benchmark passes its own, which
   * also records rejection times), handing it the library options in SESSION_INSTANCE_OPTIONS.
   */
  static async start(
    name: string,
    options: SessionModuleOptions,
    script = join(__dirname, 'fixtures', 'session-instance.ts'),
  ): Promise<InstanceProcess> {
    const child = fork(script, [], {
      cwd: ROOT,
      execArgv: ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'],
      env: {
        ...process.env,
        TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
        SESSION_INSTANCE_OPTIONS: JSON.stringify(options),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const instance = new InstanceProcess(name, child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start in 60 s`)), 60_000);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) =>
        reject(new Error(`${name} exited with ${code} before it was ready`)),
      );
    });
    return instance;
  }

  call<T>(op: string, ...args: unknown[]): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve, reject });
      this.child.send({ id, op, args });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
