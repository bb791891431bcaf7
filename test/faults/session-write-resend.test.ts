/**
 * Session writes while Redis restarts (SIGTERM, AOF fsync always, so nothing acknowledged is lost).
 *
 * Redis may run a script and close the connection before the reply reaches the client. The
 * library's client does not re-send such a command after reconnecting (a re-sent create used to
 * find its own session and fail with a plain Error → 500): the caller gets
 * SessionStoreUnavailableError (503) and Redis keeps whatever the script did, event included.
 * A rotation whose reply was lost has moved the session: retrying with the old token is then
 * refused with SessionNotFoundError (the client logs in again). Printed, not hidden.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  parseSessionEvent,
  type SessionCreatedEvent,
  SessionError,
  SessionStoreUnavailableError,
} from '@app/session';
import { createSessionFixture, type SessionFixture } from '../session/session-fixture';
import { RedisServerProcess } from '../support/redis-server-process';
import { sleep } from '../support/sleep';

jest.setTimeout(120_000);

describe('session writes while Redis restarts', () => {
  let dir: string;
  let server: RedisServerProcess;
  let fx: SessionFixture;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'resend-'));
    server = await RedisServerProcess.start({
      args: ['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always'],
    });
    fx = await createSessionFixture('resend', {
      redisUrl: server.url,
      keyPrefix: 'resend',
      cache: { enabled: false },
    });
  });
  afterAll(async () => {
    await fx.close().catch(() => undefined);
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('create fails only with SessionStoreUnavailableError, rotate only with typed errors, and nothing is written twice', async () => {
    const untyped: string[] = [];
    const wrongTyped: string[] = [];
    const untypedRotations: string[] = [];
    let lostSessions = 0;
    let operations = 0;
    let running = true;
    const creator = async () => {
      while (running) {
        try {
          await fx.service.create('resend-user');
        } catch (error) {
          if (!(error instanceof SessionStoreUnavailableError))
            untyped.push((error as Error).message);
          await sleep(5);
        }
        operations++;
      }
    };
    const rotator = async (i: number) => {
      let token = (await fx.service.create(`rotating-${i}`)).token;
      while (running) {
        try {
          token = (await fx.service.rotate(token)).token;
        } catch (error) {
          if (!(error instanceof SessionStoreUnavailableError)) {
            if (!(error instanceof SessionError)) untypedRotations.push((error as Error).message);
            wrongTyped.push(`${(error as Error).name}: ${(error as Error).message}`);
            await sleep(500);
            if ((await fx.service.verify(token).catch(() => ({ valid: true }))).valid === false) {
              lostSessions++;
              token = (await fx.service.create(`rotating-${i}`)).token;
            }
          }
          await sleep(5);
        }
        operations++;
      }
    };
    const loops = [
      ...Array.from({ length: 6 }, creator),
      ...Array.from({ length: 6 }, (_, i) => rotator(i)),
    ];
    await sleep(200);
    for (let i = 0; i < 6; i++) {
      await sleep(300);
      await server.restart();
    }
    await sleep(500);
    running = false;
    await Promise.all(loops);
    console.log(
      `${operations} operations over 6 restarts: ${untyped.length} untyped create errors, ` +
        `${wrongTyped.length} rotations whose reply was lost then refused on retry (${wrongTyped[0] ?? '-'}), ` +
        `${lostSessions} sessions the client had to log in again for`,
    );
    expect(untyped).toEqual([]);
    expect(untypedRotations).toEqual([]);
    expect(wrongTyped.every((e) => e.startsWith('SessionNotFoundError'))).toBe(true);
    // Every stored session was created once: one session.created event per session key.
    const created = (
      await fx.redis.xrange(
        fx.service.keys.events(fx.service.keys.partitionOf('resend-user')),
        '-',
        '+',
      )
    ).filter(
      ([, fields]) => fields[1] === 'session.created' && fields[3].includes('"resend-user"'),
    );
    const sessionIds = created.map(([id, fields]) =>
      parseSessionEvent(JSON.parse(fields[3]), { pattern: fields[1], id }),
    );
    expect(created.length).toBeGreaterThan(0);
    expect(new Set(sessionIds.map((e) => (e as SessionCreatedEvent).sessionId)).size).toBe(
      created.length,
    );
    expect(operations).toBeGreaterThan(100);
  });
});
