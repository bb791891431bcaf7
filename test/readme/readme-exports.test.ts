import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/**
 * The README's library section documents every public export of `@app/session` (values and
 * types, as the TypeScript checker sees libs/session/src/index.ts) and of `@app/session/testing`.
 */
const ROOT = join(__dirname, '..', '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const library = readme.slice(
  readme.indexOf('## The library: `libs/session`'),
  readme.indexOf('\n## The worker: `apps/worker`'),
);

function exportsOf(...entries: string[]): Map<string, string[]> {
  const files = entries.map((entry) => join(ROOT, entry));
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    experimentalDecorators: true,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  return new Map(
    entries.map((entry, index) => {
      const source = program.getSourceFile(files[index]);
      const symbol = source && checker.getSymbolAtLocation(source);
      if (!symbol) throw new Error(`cannot read the exports of ${entry}`);
      return [entry, checker.getExportsOfModule(symbol).map((s) => s.name)];
    }),
  );
}

/** Names the section mentions in code: spans (`name`, `name(...)`, `a | name`) and examples. */
function mentioned(text: string): Set<string> {
  const names = new Set<string>();
  const blocks = [...text.matchAll(/```\w*\n([\s\S]*?)```/g)].map((match) => match[1]);
  const prose = text.replace(/```\w*\n[\s\S]*?```/g, '');
  const spans = [...prose.matchAll(/`([^`]+)`/g)].map((match) => match[1]);
  for (const span of [...spans, ...blocks])
    for (const [word] of span.matchAll(/[A-Za-z_$][\w$]*/g)) names.add(word);
  return names;
}

describe('README library section', () => {
  const exported = exportsOf('libs/session/src/index.ts', 'libs/session/src/testing/index.ts');
  const names = mentioned(library);

  it.each([...exported.entries()])('documents every export of %s', (_, entryNames) => {
    expect(entryNames.length).toBeGreaterThan(5);
    expect(entryNames.filter((name) => !names.has(name))).toEqual([]);
  });
});
