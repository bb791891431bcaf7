import { AppProcess } from '../support/app-process';
import { RedisServerProcess } from '../support/redis-server-process';
import { sleep } from '../support/sleep';
import { uniquePrefix } from '../support/test-redis';

jest.setTimeout(120_000);

const COUNT = / \((\d+) times in the last \d+ s\)$/;
const WATCH_MS = 12_000;

/** JSON lines written at or after `since`, as `context: message` with any count taken off. */
function linesSince(output: string, since: number): { key: string; msg: string }[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { time: number; context?: string; msg?: string })
    .filter((line) => line.time >= since && typeof line.msg === 'string')
    .map((line) => ({
      key: `${line.context ?? '-'}: ${line.msg!.replace(COUNT, '')}`,
      msg: line.msg!,
    }));
}

/**
 * While Redis is gone every reconnect attempt fails, a few times a second per connection. Each
 * message is written once per 10 s, the next one with how many there were: with Redis gone for
 * 12 s no message appears more than twice (it used to be once per attempt), and the counts add
 * up to the attempts.
 */
describe('reconnect messages while Redis is gone', () => {
  it.each(['api', 'worker'] as const)(
    '%s writes each at most once per 10 s, with a count',
    async (app) => {
      const redis = await RedisServerProcess.start();
      let proc: AppProcess | undefined;
      try {
        proc = await AppProcess.start(app, `reconnect-log-${app}`, {
          REDIS_URL: redis.url,
          SESSION_PREFIX: uniquePrefix(`reconnect-log-${app}`),
          LOG_LEVEL: 'info',
        });
        const killedAt = Date.now();
        await redis.kill();
        await sleep(WATCH_MS);
        const lines = linesSince(proc.output, killedAt);
        const perMessage = new Map<string, number>();
        for (const { key } of lines) perMessage.set(key, (perMessage.get(key) ?? 0) + 1);
        const counted = lines.filter((line) => COUNT.test(line.msg)).map((line) => line.msg);
        console.log(
          `${app}, Redis gone for ${WATCH_MS} ms: ${lines.length} lines\n` +
            [...perMessage].map(([key, n]) => `  ${n} × ${key}`).join('\n') +
            `\n  with a count: ${counted.join(' | ') || 'none'}`,
        );
        const repeated = [...perMessage].filter(([, n]) => n > 2);
        expect(repeated).toEqual([]);
        // Something did retry meanwhile, and said how often.
        expect(counted.length).toBeGreaterThan(0);
        for (const msg of counted) expect(Number(COUNT.exec(msg)![1])).toBeGreaterThan(1);
      } finally {
        await proc?.stop('SIGKILL');
        await redis.stop();
      }
    },
  );
});
