import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The README's testing example is a jest spec: pasted as is into a file of this monorepo and
 * loaded here while jest collects this file, its describe/it blocks run as tests of their own.
 */
const ROOT = join(__dirname, '..', '..');
const GENERATED = join(__dirname, 'generated-readme-testing.ts');

function readmeTestingExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Testing your app'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('No ```ts block in the README testing section');
  return match[1];
}

const source = readmeTestingExample();
writeFileSync(GENERATED, source);
try {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(GENERATED);
} finally {
  rmSync(GENERATED, { force: true });
}

it('the README testing example declares its tests', () => {
  expect(source).toMatch(/describe\('ReportsController'/);
});
