import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export interface RebuildRun {
  code: number | null;
  /** The JSON reports the command printed (rebuild, then check). */
  reports: Record<string, unknown>[];
  output: string;
}

/** `npm run worker:rebuild [-- --check]`, run from source with the given environment. */
export function runRebuildCommand(env: Record<string, string>, check = false): Promise<RebuildRun> {
  const child = spawn(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
      join(ROOT, 'apps/worker/src/rebuild/rebuild.ts'),
      ...(check ? ['--check'] : []),
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
      // Reports are JSON objects, one per line or pretty-printed over several.
      const reports: Record<string, unknown>[] = [];
      for (const match of stdout.matchAll(/^\{.*\}$|^\{[\s\S]*?^\}$/gm)) {
        try {
          reports.push(JSON.parse(match[0]) as Record<string, unknown>);
        } catch {
          // not a report
        }
      }
      resolve({ code, reports, output: `${stdout}\n${stderr}` });
    });
  });
}
