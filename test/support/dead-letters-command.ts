import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export interface DeadLettersRun {
  code: number | null;
  /** The JSON report the command printed (null when it printed none). */
  report: Record<string, unknown> | null;
  output: string;
}

/** `npm run worker:dead-letters -- <args>`, run from source with the given environment. */
export function runDeadLettersCommand(
  env: Record<string, string>,
  args: string[],
): Promise<DeadLettersRun> {
  const child = spawn(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
      join(ROOT, 'apps/worker/src/dead-letters/dead-letters.ts'),
      ...args,
    ],
    {
      cwd: ROOT,
      env: { ...process.env, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      let report: Record<string, unknown> | null = null;
      try {
        report = JSON.parse(stdout) as Record<string, unknown>;
      } catch {
        // no report: see output
      }
      resolve({ code, report, output: `${stdout}\n${stderr}` });
    });
  });
}
