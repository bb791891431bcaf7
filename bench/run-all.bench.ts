/**
 * Every benchmark scenario against the alternatives users would pick instead.
 *
 *   npm run bench                       # all scenarios, writes bench/RESULTS.md
 *   BENCH_ONLY=http,memory npm run bench # some of them (RESULTS.md is written only for a full run)
 *   BENCH_SMOKE=1 npm run bench          # about a second each, nothing written (the smoke test)
 *
 * Every figure is printed with its baseline measured in the same run and the ratio; every
 * scenario gets its own fresh private redis-server(s), never the shared one.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCreate } from './scenarios/create';
import { runHttp } from './scenarios/http';
import { runMemory } from './scenarios/memory';
import { runRevocation } from './scenarios/revocation';
import { runValidation } from './scenarios/validation';
import { runWorker } from './scenarios/worker';
import { SMOKE } from './support/config';
import { describeMachine, machineInfo } from './support/machine';
import type { Section } from './support/report';
import { renderResults } from './support/results';

const SCENARIOS: Record<string, () => Promise<Section>> = {
  validation: runValidation,
  http: runHttp,
  create: runCreate,
  memory: runMemory,
  revocation: runRevocation,
  worker: runWorker,
};

function selected(): string[] {
  const only = process.env.BENCH_ONLY?.split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (!only || only.length === 0) return Object.keys(SCENARIOS);
  const unknown = only.filter((name) => !(name in SCENARIOS));
  if (unknown.length > 0)
    throw new Error(
      `BENCH_ONLY: unknown ${unknown.join(', ')}; known: ${Object.keys(SCENARIOS).join(', ')}`,
    );
  return only;
}

async function main(): Promise<void> {
  const names = selected();
  const startedAt = new Date();
  const machine = await machineInfo();
  console.log(describeMachine(machine));
  if (SMOKE) console.log('BENCH_SMOKE=1: shortened runs, RESULTS.md is not written');
  const sections: Section[] = [];
  for (const name of names) sections.push(await SCENARIOS[name]());

  const targets = sections.flatMap((s) => s.targets);
  console.log('\nTargets:');
  for (const t of targets) console.log(`  ${t.pass ? 'PASS' : 'MISS'}  ${t.name}`);
  if (SMOKE || names.length !== Object.keys(SCENARIOS).length) return;
  const file = join(__dirname, 'RESULTS.md');
  writeFileSync(file, renderResults({ startedAt, finishedAt: new Date(), machine, sections }));
  console.log(`\nwritten: ${file}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
