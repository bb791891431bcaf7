import { runWorkerCommand } from './rebuild-command';

export interface DeadLettersRun {
  code: number | null;
  /** The JSON report the command printed (null when it printed none). */
  report: Record<string, unknown> | null;
  output: string;
}

/** `npm run worker:dead-letters -- <args>`, run built with the given environment. */
export async function runDeadLettersCommand(
  env: Record<string, string>,
  args: string[],
): Promise<DeadLettersRun> {
  const run = await runWorkerCommand('dead-letters/dead-letters.ts', args, env);
  return { code: run.code, report: run.reports[0] ?? null, output: run.output };
}
