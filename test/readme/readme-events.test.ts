import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import { SessionModule, SessionService } from '@app/session';
import { eventually } from '../support/eventually';
import { sleep } from '../support/sleep';
import {
  deleteKeysWithPrefix,
  newRedisClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/test-redis';

/**
 * The README's event consumer, pasted as is into a file and run as four real processes on one
 * deployment: two in a shared group (each event reaches one of them) and two with a group each
 * (every event reaches both).
 */
const ROOT = join(__dirname, '..', '..');
const GENERATED = join(__dirname, 'generated-readme-events.ts');
const PARTITIONS = 4;
const USERS = 24;
const REVOKED = 6;

function readmeEventsExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Consuming session events'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('No ```ts block in the README event consumer section');
  return match[1];
}

class Consumer {
  output = '';
  readonly child: ChildProcess;

  constructor(
    readonly name: string,
    env: Record<string, string>,
  ) {
    this.child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', GENERATED],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
          NO_COLOR: '1',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  ids(kind: 'created' | 'revoked'): string[] {
    return [...this.output.matchAll(new RegExp(`${kind} (\\d+-[0-9a-f-]{36})`, 'g'))].map(
      (m) => m[1],
    );
  }

  async started(): Promise<void> {
    await eventually(
      () => {
        if (this.child.exitCode !== null) throw new Error(`${this.name} exited:\n${this.output}`);
        return /Nest microservice successfully started/.test(this.output);
      },
      (ok) => ok,
      { timeoutMs: 60_000, intervalMs: 50 },
    );
  }
}

describe('The README event consumer', () => {
  const prefix = uniquePrefix('readme-events');
  const consumers: Consumer[] = [];

  beforeAll(() => {
    writeFileSync(GENERATED, `${readmeEventsExample()}\nvoid startAudit();\n`);
  });
  afterAll(async () => {
    for (const consumer of consumers) consumer.child.kill('SIGTERM');
    rmSync(GENERATED, { force: true });
    const redis = newRedisClient();
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  });

  it('shared group: each event reaches one instance; per-instance groups: every instance', async () => {
    const env = {
      REDIS_URL: testRedisUrl(),
      SESSION_PREFIX: prefix,
      SESSION_STREAM_PARTITIONS: String(PARTITIONS),
    };
    const [a, b, c, d] = [
      ['a', 'shared'],
      ['b', 'shared'],
      ['c', 'per-instance'],
      ['d', 'per-instance'],
    ].map(([name, mode]) => new Consumer(name, { ...env, AUDIT_MODE: mode, AUDIT_CONSUMER: name }));
    consumers.push(a, b, c, d);
    const started = Date.now();
    await Promise.all(consumers.map((consumer) => consumer.started()));
    console.log(`4 consumers started in ${Date.now() - started} ms`);

    const moduleRef = await Test.createTestingModule({
      imports: [
        SessionModule.forRoot({
          redis: { url: testRedisUrl() },
          keyPrefix: prefix,
          streamPartitions: PARTITIONS,
        }),
      ],
    }).compile();
    await moduleRef.init();
    const sessions = moduleRef.get(SessionService);
    const created: string[] = [];
    for (let user = 0; user < USERS; user++)
      created.push((await sessions.create(`user-${user}`)).sessionId);
    for (const sessionId of created.slice(0, REVOKED)) await sessions.revoke(sessionId, 'logout');
    await moduleRef.close();

    const sorted = (ids: string[]) => [...ids].sort();
    await eventually(
      () => [...a.ids('revoked'), ...b.ids('revoked')].length,
      (n) => n >= REVOKED,
      { timeoutMs: 20_000 },
    );
    for (const consumer of [c, d])
      await eventually(
        () => consumer.ids('revoked').length,
        (n) => n >= REVOKED,
        { timeoutMs: 20_000 },
      );
    await sleep(300); // a duplicate delivery would show up by now

    // Shared: the two instances split the events, none twice.
    expect(sorted([...a.ids('created'), ...b.ids('created')])).toEqual(sorted(created));
    expect(sorted([...a.ids('revoked'), ...b.ids('revoked')])).toEqual(
      sorted(created.slice(0, REVOKED)),
    );
    // Per instance: each sees every event once.
    for (const consumer of [c, d]) {
      expect(sorted(consumer.ids('created'))).toEqual(sorted(created));
      expect(sorted(consumer.ids('revoked'))).toEqual(sorted(created.slice(0, REVOKED)));
    }
    expect(a.output).toMatch(/revoked \S+ \(logout\), delivery 1/);
    console.log(
      `shared group: a handled ${a.ids('created').length}, b ${b.ids('created').length} of ${USERS} created events`,
    );
  }, 120_000);
});
