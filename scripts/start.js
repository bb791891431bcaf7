#!/usr/bin/env node
/**
 * `npm start`: builds when any build input changed, then runs one api and one worker against
 * REDIS_URL (default redis://127.0.0.1:6379) or REDIS_CLUSTER_NODES. When nothing answers at a
 * plain redis:// URL on this machine and `redis-server` is on the PATH, a private Redis is started
 * for the run, in its own process group, and stopped last.
 *
 * SIGTERM, SIGINT and SIGHUP (the terminal closed) stop everything at any point, build included:
 * the apps first (the api finishes in-flight requests, the worker drains), then the private Redis.
 * A process that dies on its own (an app, the private Redis) stops the rest; the exit code is then
 * non-zero, as it is when a process had to be killed after the stop timeout.
 */
'use strict';
const { rmSync } = require('node:fs');
const { join } = require('node:path');
const { build, buildReason } = require('./start/build');
const { describeExit, isRunning, runApp, stopProcess } = require('./start/processes');
const { probe, replaceable, startPrivateRedis } = require('./start/redis');

const ROOT = join(__dirname, '..');
const ENTRIES = {
  api: join(ROOT, 'dist/apps/api/apps/api/src/main.js'),
  worker: join(ROOT, 'dist/apps/worker/apps/worker/src/main.js'),
};
const APP_STOP_TIMEOUT_MS = 25_000;
const REDIS_STOP_TIMEOUT_MS = 5_000;

const log = (message) => console.log(`[start] ${message}`);
const fail = (message) => console.error(`[start] ${message}`);

const state = { stopping: false, build: null, redis: null, apps: [] };

/** Stops whatever runs, in order (build, apps, private Redis), then exits. */
async function stop(code, reason) {
  if (state.stopping) return;
  state.stopping = true;
  log(`stopping (${reason})`);
  let forced = false;
  if (state.build) forced = (await stopProcess(state.build, 10_000, true)) || forced;
  const appsKilled = await Promise.all(
    state.apps.map((app) => stopProcess(app, APP_STOP_TIMEOUT_MS)),
  );
  forced = appsKilled.some(Boolean) || forced;
  if (state.redis) {
    const running = isRunning(state.redis.child) ? 'still running' : 'already gone';
    log(`apps stopped; stopping the private Redis (pid ${state.redis.child.pid}, ${running})`);
    forced = (await stopProcess(state.redis.child, REDIS_STOP_TIMEOUT_MS, true)) || forced;
    rmSync(state.redis.dir, { recursive: true, force: true });
  }
  if (forced) fail('a process did not stop in time and was killed');
  const exitCode = code || (forced ? 1 : 0);
  log(`stopped (exit code ${exitCode})`);
  process.exit(exitCode);
}

// First thing: a signal during the build or the wait for Redis must stop cleanly too.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'])
  process.on(signal, () => void stop(0, `received ${signal}`));

/** A URL safe to print: no password. */
function printable(url) {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/** The REDIS_URL the apps get (the private Redis's when one was started), or exits. */
async function resolveRedis() {
  if (process.env.REDIS_CLUSTER_NODES) {
    log(`using the Redis Cluster at ${process.env.REDIS_CLUSTER_NODES}`);
    return process.env.REDIS_URL;
  }
  const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  if (!replaceable(url)) {
    log(`using ${printable(url)} (TLS or another host: never replaced by a private Redis)`);
    return url;
  }
  const found = await probe(url);
  if (found === 'redis') return url;
  if (found === 'other') {
    fail(`something answers at ${printable(url)} but it is not Redis: set REDIS_URL`);
    return stop(1, 'no usable Redis');
  }
  let redis;
  try {
    redis = await startPrivateRedis();
  } catch (error) {
    state.redis = error.redis ?? null;
    fail(error.message);
    return stop(1, 'the private Redis did not start');
  }
  if (!redis) {
    fail(
      `No Redis answers at ${printable(url)} and redis-server is not on the PATH.\n` +
        '[start] Start one (e.g. `docker run -d -p 127.0.0.1:6379:6379 redis:7.0`) or set REDIS_URL, then run npm start again.',
    );
    return stop(1, 'no Redis');
  }
  state.redis = redis;
  log(
    `no Redis at ${printable(url)}: started a private redis-server at ${redis.url} ` +
      `(pid ${redis.child.pid}; nothing is persisted)`,
  );
  redis.child.on('exit', (code, signal) => {
    if (!state.stopping) {
      fail(`the private Redis exited (${describeExit(code, signal)}): stopping the apps`);
      void stop(1, 'Redis exited');
    }
  });
  return redis.url;
}

async function main() {
  const reason = buildReason(ROOT, Object.values(ENTRIES));
  if (reason) {
    log(`${reason}: building`);
    const code = await build(ROOT, (child) => (state.build = child));
    state.build = null;
    if (state.stopping) return;
    if (code !== 0) return stop(code, 'the build failed');
  }
  const redisUrl = await resolveRedis();
  if (state.stopping) return;

  const env = {
    ...process.env,
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    NODE_ENV: process.env.NODE_ENV || 'development',
  };
  for (const [name, entry] of Object.entries(ENTRIES)) {
    const app = runApp(name, entry, env, ROOT);
    state.apps.push(app);
    app.on('exit', (code, signal) => {
      if (state.stopping) return;
      fail(`the ${name} exited unexpectedly (${describeExit(code, signal)}): stopping the others`);
      void stop(1, `the ${name} exited`);
    });
  }
  const [api, worker] = state.apps;
  log(
    `api on http://127.0.0.1:${env.PORT || 3000} (docs at /docs, pid ${api.pid}), ` +
      `worker health on :${env.WORKER_PORT || 3001} (pid ${worker.pid})`,
  );
}

main().catch((error) => {
  fail(error.stack || String(error));
  void stop(1, 'an error in npm start');
});
