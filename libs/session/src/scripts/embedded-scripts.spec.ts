import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..', '..');

describe('libs/session/src/scripts/embedded-scripts.generated.ts', () => {
  it('is current with the .lua files (else: npm run embed-lua)', () => {
    const run = spawnSync(
      process.execPath,
      [join(ROOT, 'scripts', 'embed-lua.js'), '--check', 'libs/session/src/scripts'],
      { encoding: 'utf8' },
    );
    // The message names the command to run.
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});
