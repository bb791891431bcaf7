import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import type { SessionModuleOptions } from '@app/session';

const ROOT = join(__dirname, '..', '..');

/** What a fixture app is told: the library's options and which store to run. */
export interface StoreAppConfig {
  session: SessionModuleOptions;
  /** 'ours' (default) or 'connect-redis' (the store apps migrate from). */
  store?: 'ours' | 'connect-redis';
  /** connect-redis's key prefix (also the migration's). */
  legacyPrefix?: string;
  redisUrl: string;
}

/** A fixture app (fixtures/*.ts) in its own process, listening on a port it reports over IPC. */
export class StoreAppProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(fixture: string, config: StoreAppConfig): Promise<StoreAppProcess> {
    const child = fork(join(__dirname, 'fixtures', fixture), [], {
      cwd: ROOT,
      execArgv: ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'],
      env: {
        ...process.env,
        TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
        STORE_APP_CONFIG: JSON.stringify(config),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${fixture} did not start in 60 s`)), 60_000);
      child.once('message', (message: { port: number }) => {
        clearTimeout(timer);
        resolve(message.port);
      });
      child.once('exit', (code) => reject(new Error(`${fixture} exited with ${code}`)));
    });
    return new StoreAppProcess(child, `http://127.0.0.1:${port}`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

/** A browser's cookie jar for one site, reduced to the one session cookie. */
export class CookieJar {
  cookie = '';

  async request(
    app: StoreAppProcess,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    const response = await fetch(app.url + path, {
      method,
      headers: {
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const set = response.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0];
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : null };
  }
}
