import { ServiceUnavailableException } from '@nestjs/common';

/**
 * The body of /health/live and /health/ready in every app: whether the probe passes, why not in
 * a few words (for the operator reading `curl` output or an orchestrator's event), and each check
 * up or down. Never host names, ports or driver errors: those go to the log.
 */
export interface ProbeReport {
  status: 'ok' | 'error';
  /** The first failing check's reason; absent when every check passes. */
  reason?: string;
  checks: Record<string, 'up' | 'down'>;
}

/** One reason per check, null where the check passes; the first failing one becomes the reason. */
export type ProbeProblems = Record<string, string | null>;

export function probeReport(problems: ProbeProblems): ProbeReport {
  const checks: Record<string, 'up' | 'down'> = {};
  let reason: string | undefined;
  for (const [name, problem] of Object.entries(problems)) {
    checks[name] = problem === null ? 'up' : 'down';
    reason ??= problem ?? undefined;
  }
  return reason === undefined ? { status: 'ok', checks } : { status: 'error', reason, checks };
}

/** The report as a 200, or a 503 with the same body (on any Nest HTTP adapter). */
export function answerProbe(report: ProbeReport): ProbeReport {
  if (report.status === 'error') throw new ServiceUnavailableException(report);
  return report;
}
