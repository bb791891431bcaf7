'use strict';
/**
 * Builds the apps when any input of the build changed since the last `npm run build`:
 * sources (ts, lua, json) under apps/ and libs/, package.json, the lock file, every tsconfig and
 * nest-cli.json. A fingerprint of paths, sizes and modification times (so a deleted or renamed
 * file counts too) is kept beside the output; nest-cli.json's deleteOutDir cleans each app's
 * output first, so a deleted script never lingers in dist.
 */
const { spawn } = require('node:child_process');
const { createHash } = require('node:crypto');
const { existsSync, readdirSync, readFileSync, statSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');

const TOP_LEVEL_INPUTS = [
  'package.json',
  'package-lock.json',
  'nest-cli.json',
  'tsconfig.json',
  'tsconfig.build.json',
];
const SOURCE = /\.(ts|lua|json)$/;

function listSources(root, dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) listSources(root, path, out);
    else if (SOURCE.test(entry.name)) out.push(relative(root, path));
  }
  return out;
}

/** A digest of every build input's path, size and modification time. */
function inputsFingerprint(root) {
  const files = [
    ...TOP_LEVEL_INPUTS.filter((file) => existsSync(join(root, file))),
    ...listSources(root, join(root, 'apps'), []),
    ...listSources(root, join(root, 'libs'), []),
  ].sort();
  const hash = createHash('sha256');
  for (const file of files) {
    const { size, mtimeMs } = statSync(join(root, file));
    hash.update(`${file}\0${size}\0${mtimeMs}\n`);
  }
  return hash.digest('hex');
}

const stampFile = (root) => join(root, 'dist', '.build-inputs');

/** Records what a successful build was made from (scripts/build.js). */
function recordBuild(root, fingerprint) {
  writeFileSync(stampFile(root), fingerprint);
}

/** Why a build is needed ('' when the last build is current). */
function buildReason(root, entries) {
  if (!entries.every((entry) => existsSync(entry))) return 'no build found';
  const stamp = stampFile(root);
  if (!existsSync(stamp)) return 'the build was not made by npm run build';
  if (readFileSync(stamp, 'utf8') !== inputsFingerprint(root)) return 'build inputs changed';
  return '';
}

/**
 * Runs `npm run build` (which records the inputs it built from) in its own process group (a
 * signal to npm start stops it through `onChild`); resolves with its exit code.
 */
function build(root, onChild) {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', detached: true });
    onChild(child);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

module.exports = { build, buildReason, inputsFingerprint, recordBuild };
