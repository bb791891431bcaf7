import { execFileSync } from 'node:child_process';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');

// scripts/start/build.js is plain CommonJS shared with `npm start`: one definition of "current".
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { buildReason } = require('../../scripts/start/build') as {
  buildReason(root: string, entries: string[]): string;
};

/**
 * Where `nest build` puts the compiled file of an app's source file (apps/<app>/src/...), which
 * the suites start the way a user does: `node dist/apps/<app>/apps/<app>/src/main.js`.
 */
export function builtFile(sourceFile: string): string {
  const path = relative(ROOT, join(ROOT, sourceFile));
  const app = /^apps\/([^/]+)\//.exec(path)?.[1];
  if (!app) throw new Error(`${sourceFile} is not an app source (apps/<name>/...)`);
  return join(ROOT, 'dist', 'apps', app, path.replace(/\.ts$/, '.js'));
}

/**
 * Builds the apps once per test run when `dist/` is missing or older than its inputs (what
 * `npm start` checks too); CI builds before testing, so there it only checks.
 */
export function ensureAppsBuilt(): void {
  const entries = ['apps/api/src/main.ts', 'apps/worker/src/main.ts'].map(builtFile);
  const reason = buildReason(ROOT, entries);
  if (!reason) return;
  process.stderr.write(`[test-build] ${reason}: npm run build\n`);
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.js')], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
