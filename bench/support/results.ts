import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { MachineInfo } from './machine';
import type { Section } from './report';
import { ratio } from './format';

/** Hand-written analysis of the profiles of the latest full run, appended as it stands. */
const ANALYSIS = join(__dirname, '..', 'ANALYSIS.md');

export function renderResults(run: {
  startedAt: Date;
  finishedAt: Date;
  machine: MachineInfo;
  sections: Section[];
}): string {
  const m = run.machine;
  const minutes = (run.finishedAt.getTime() - run.startedAt.getTime()) / 60_000;
  const load = (values: number[]): string => values.map((v) => v.toFixed(2)).join(' / ');
  const lines = [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (bench/run-all.bench.ts); do not edit by hand, run it again.',
    '',
    `- date: ${run.startedAt.toISOString()} (${minutes.toFixed(1)} min)`,
    `- machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB; Node ${m.node}; redis-server ${m.redis}`,
    `- load average (1/5/15 min) at start ${load(m.loadAverage)}, at the end ${load(loadavg())} ` +
      '(other work on the machine shares its cores)',
    '- command: `npm run bench`',
    '',
    '## Targets',
    '',
    '| target | ratio | goal | |',
    '|---|---:|---|---|',
    ...run.sections.flatMap((s) =>
      s.targets.map(
        (t) => `| ${t.name} | ${ratio(t.ratio)} | ${t.goal} | **${t.pass ? 'PASS' : 'MISS'}** |`,
      ),
    ),
    '',
    ...run.sections.map((s) => s.markdown()),
  ];
  if (existsSync(ANALYSIS)) lines.push(readFileSync(ANALYSIS, 'utf8').trim(), '');
  return lines.join('\n');
}
