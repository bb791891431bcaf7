import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export interface CommandRun {
  code: number | null;
  /** The JSON reports the command printed (rebuild, then check; or the settings). */
  reports: Record<string, unknown>[];
  output: string;
}

/** A command of apps/worker (a .ts entry), run from source with the given environment. */
export function runWorkerCommand(
  entry: string,
  args: string[],
  env: Record<string, string>,
): Promise<CommandRun> {
  const child = spawn(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
      join(ROOT, 'apps/worker/src', entry),
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

/** `npm run worker:rebuild [-- --check]`, run from source with the given environment. */
export function runRebuildCommand(env: Record<string, string>, check = false): Promise<CommandRun> {
  return runWorkerCommand('rebuild/rebuild.ts', check ? ['--check'] : [], env);
}

/** `npm run deployment:settings [-- --adopt]`, run from source with the given environment. */
export function runDeploymentSettingsCommand(
  env: Record<string, string>,
  adopt = false,
): Promise<CommandRun> {
  return runWorkerCommand(
    'deployment/deployment-settings.command.ts',
    adopt ? ['--adopt'] : [],
    env,
  );
}
