import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The README's testing examples (an e2e test on a real Redis, a unit test without Redis) are jest
 * specs: each pasted as is into a file of this monorepo and loaded here while jest collects this
 * file, so their describe/it blocks run as tests of their own.
 */
const ROOT = join(__dirname, '..', '..');

function readmeTestingExamples(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('### Testing your app');
  const section = readme.slice(start, readme.indexOf('\n## ', start));
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]);
}

const sources = readmeTestingExamples();
sources.forEach((source, index) => {
  const generated = join(__dirname, `generated-readme-testing-${index}.ts`);
  writeFileSync(generated, source);
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(generated);
  } finally {
    rmSync(generated, { force: true });
  }
});

it('the README testing examples declare their tests: e2e on Redis, unit without', () => {
  expect(sources).toHaveLength(2);
  expect(sources[0]).toMatch(/describe\('ReportsController'/);
  expect(sources[0]).toContain('SessionTestingModule.forRoot()');
  expect(sources[1]).toMatch(/describe\('OrdersController \(unit, no Redis\)'/);
  expect(sources[1]).toContain('SessionTestingModule.withoutRedis()');
});
