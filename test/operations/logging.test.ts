import { AppProcess } from '../support/app-process';
import { testRedisUrl, uniquePrefix } from '../support/test-redis';

jest.setTimeout(120_000);

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/;

/** The lines a process wrote, parsed as JSON where they are JSON. */
function jsonLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/**
 * One logging setup for every process: the api and the worker write the same JSON lines (pino:
 * level, time, pid, hostname, msg, the Nest context), no colour codes when the output is a pipe,
 * human-readable lines in development, and LOG_LEVEL honoured by both.
 */
describe('logging of the api and the worker', () => {
  const env = (extra: Record<string, string> = {}) => ({
    REDIS_URL: testRedisUrl(),
    SESSION_PREFIX: uniquePrefix('logging'),
    ...extra,
  });

  it.each(['api', 'worker'] as const)(
    '%s writes JSON lines with the same fields, no colour codes',
    async (app) => {
      const proc = await AppProcess.start(app, `logging-${app}`, env({ LOG_LEVEL: 'info' }));
      await proc.stop();
      expect(proc.output).not.toMatch(ANSI);
      const lines = jsonLines(proc.output);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        expect(line).toEqual(
          expect.objectContaining({
            level: expect.any(Number),
            time: expect.any(Number),
            pid: expect.any(Number),
            hostname: expect.any(String),
          }),
        );
      }
      // Nest's own start-up lines carry their context (the class that logged them).
      expect(lines.some((line) => typeof line.context === 'string' && line.msg)).toBe(true);
      // Every non-empty line is JSON: nothing in Nest's console format.
      const other = proc.output.split('\n').filter((line) => line.trim() && !line.startsWith('{'));
      expect(other).toEqual([]);
    },
  );

  it.each(['api', 'worker'] as const)('%s honours LOG_LEVEL=warn', async (app) => {
    const proc = await AppProcess.start(app, `logging-warn-${app}`, env({ LOG_LEVEL: 'warn' }));
    await proc.stop();
    const levels = jsonLines(proc.output).map((line) => line.level as number);
    expect(levels.every((level) => level >= 40)).toBe(true);
  });

  it('the worker in development writes human-readable lines, without colour codes in a pipe', async () => {
    const proc = await AppProcess.start(
      'worker',
      'logging-dev-worker',
      env({ LOG_LEVEL: 'info', NODE_ENV: 'development' }),
    );
    await proc.stop();
    expect(proc.output).not.toMatch(ANSI);
    expect(jsonLines(proc.output)).toEqual([]);
    expect(proc.output).toMatch(/INFO.*Worker logging-dev-worker consuming/);
  });
});
