#!/usr/bin/env node
/**
 * `npm run build`: embeds the Lua scripts (scripts/embed-lua.js), builds apps/api and apps/worker
 * with the Nest CLI, then records a fingerprint
 * of the build's inputs beside the output, so `npm start` and the test harness know whether
 * `dist/` is current (scripts/start/build.js) without rebuilding every time.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');
const { inputsFingerprint, recordBuild } = require('./start/build');

const ROOT = join(__dirname, '..');
const NEST = join(ROOT, 'node_modules', '.bin', 'nest');
const APPS = ['api', 'worker'];

const embed = spawnSync(process.execPath, [join(__dirname, 'embed-lua.js')], {
  cwd: ROOT,
  stdio: 'inherit',
});
if (embed.status !== 0) process.exit(embed.status ?? 1);
// Taken before building: an input edited during the build makes the next check rebuild.
const fingerprint = inputsFingerprint(ROOT);
for (const app of APPS) {
  const run = spawnSync(NEST, ['build', app], { cwd: ROOT, stdio: 'inherit' });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
recordBuild(ROOT, fingerprint);
