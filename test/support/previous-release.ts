import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** The last commit that writes storage format 1 only (before issue 12's format change). */
export const LAST_FORMAT_1_COMMIT = 'a5e64b8';

/**
 * That release built (`nest build api && nest build worker`) in a temp directory, from
 * `git archive` of its commit (nothing registered in the repository), with this checkout's
 * node_modules. Built once per machine; later runs reuse it.
 */
export function previousReleaseRoot(commit = LAST_FORMAT_1_COMMIT): string {
  const root = join(tmpdir(), `session-release-${commit}`);
  const built = join(root, 'dist', 'apps', 'worker', 'apps', 'worker', 'src', 'main.js');
  if (existsSync(built)) return root;
  mkdirSync(root, { recursive: true });
  const archive = execFileSync('git', ['-C', ROOT, 'archive', '--format=tar', commit], {
    maxBuffer: 256 * 1024 * 1024,
  });
  execFileSync('tar', ['-x', '-C', root], { input: archive });
  if (!existsSync(join(root, 'node_modules')))
    symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(root, 'node_modules'));
  const nest = join(root, 'node_modules', '.bin', 'nest');
  execFileSync(nest, ['build', 'api'], { cwd: root, stdio: 'ignore' });
  execFileSync(nest, ['build', 'worker'], { cwd: root, stdio: 'ignore' });
  return root;
}
