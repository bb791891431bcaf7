/**
 * Smoke run of `npm run bench` (BENCH_SMOKE=1: about a second per scenario, RESULTS.md not
 * written), so the benchmark program cannot rot. The figures are not checked, only that every
 * scenario runs to the end and reports its figures and targets.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function runBench(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        'bench/run-all.bench.ts',
      ],
      {
        cwd: ROOT,
        env: { ...process.env, BENCH_SMOKE: '1', TS_NODE_PROJECT: join(ROOT, 'tsconfig.json') },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('npm run bench (smoke)', () => {
  it('runs every scenario and prints each figure with its baseline and every target', async () => {
    const { code, output } = await runBench();
    if (code !== 0) throw new Error(`bench exited with ${code}:\n${output}`);
    for (const heading of [
      '== 1. Validation',
      '== 2. HTTP',
      '== 3. Creates',
      '== 4. Redis memory',
      '== 5. Revocation',
      '== 6. Worker',
    ])
      expect(output).toContain(heading);
    for (const target of [
      'L1-hit validation vs connect-redis',
      'guarded route (apps/api) req/s',
      'guarded route (apps/api on Fastify) req/s vs @fastify/session',
      'guarded /auth/me vs the same app’s /ping',
      'creates/s vs connect-redis set',
      'memory per session vs connect-redis',
    ])
      expect(output).toMatch(new RegExp(`(PASS|MISS) +${target.replace(/[()+/]/g, '\\$&')}`));
    expect(output).toMatch(/vs connect-redis get\+touch [\d,]+ ops\/s = [\d.]+×/);
    expect(output).toContain('BENCH_SMOKE=1');
    expect(output).not.toContain('written:');
  }, 120_000);
});
