import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_VARIABLES } from '../../apps/api/src/config';
import { WORKER_CONFIG_VARIABLES } from '../../apps/worker/src/worker.config';

/**
 * The README's Configuration table cannot drift from the code: every variable the api or the
 * worker declares is documented with its default, the table names nothing the code does not
 * read, and no source file reads an environment variable outside the declared lists.
 */
const ROOT = join(__dirname, '..', '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const section = readme.slice(
  readme.indexOf('\n## Configuration'),
  readme.indexOf('\n## Architecture'),
);

/** Table rows as [variables of the first cell, default cell]. */
const rows = section
  .split('\n')
  .filter((line) => line.startsWith('| `'))
  .map((line) => {
    const [names, defaults] = line.split('|').slice(1, 3);
    return { names: [...names.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]), defaults };
  });

const declared = new Map(
  [...CONFIG_VARIABLES, ...WORKER_CONFIG_VARIABLES].map((variable) => [variable.name, variable]),
);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|js)$/.test(entry) && !entry.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('README Configuration table', () => {
  it.each([...declared.keys()])('documents %s with its default', (name) => {
    const row = rows.find((r) => r.names.includes(name));
    expect({ name, documented: row !== undefined }).toEqual({ name, documented: true });
    const fallback = declared.get(name)!.default;
    if (fallback !== undefined) expect(row!.defaults).toContain(fallback.replace(/^'|'$/g, ''));
  });

  it('names only variables the apps read', () => {
    const documented = rows.flatMap((r) => r.names);
    expect(documented.filter((name) => !declared.has(name))).toEqual([]);
  });

  it('no source reads an environment variable the config does not declare', () => {
    // The testing kit (@app/session/testing) reads REDIS_URL as test tooling, not app config.
    const files = [...sourceFiles(join(ROOT, 'apps')), ...sourceFiles(join(ROOT, 'libs'))].filter(
      (file) => !file.includes(join('libs', 'session', 'src', 'testing')),
    );
    const read = new Set(
      files.flatMap((file) =>
        [...readFileSync(file, 'utf8').matchAll(/process\.env\.([A-Z_]+)/g)].map((m) => m[1]),
      ),
    );
    expect([...read].filter((name) => !declared.has(name))).toEqual([]);
  });
});
