#!/usr/bin/env node
/**
 * `npm start`: builds if needed, then runs one api and one worker against REDIS_URL
 * (default redis://127.0.0.1:6379). When nothing answers there and `redis-server` is on the PATH,
 * a private Redis is started for this run (and stopped with it). SIGTERM/SIGINT stop everything
 * gracefully: the api finishes in-flight requests, the worker drains.
 */
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const { existsSync, mkdtempSync, readdirSync, statSync, rmSync } = require('node:fs');
const net = require('node:net');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
const ENTRIES = {
  api: join(ROOT, 'dist/apps/api/apps/api/src/main.js'),
  worker: join(ROOT, 'dist/apps/worker/apps/worker/src/main.js'),
};
const log = (message) => console.log(`[start] ${message}`);

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (/\.(ts|lua|json)$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function buildIfNeeded() {
  const built = Object.values(ENTRIES).every(existsSync);
  const stale =
    built &&
    Math.max(newestSource(join(ROOT, 'apps')), newestSource(join(ROOT, 'libs'))) >
      Math.min(...Object.values(ENTRIES).map((entry) => statSync(entry).mtimeMs));
  if (built && !stale) return;
  log(built ? 'sources changed since the last build: building' : 'no build found: building');
  const result = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/** True when something at host:port answers PING with PONG within a second. */
function answersPing(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname || '127.0.0.1', port: Number(port || 6379) });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    // A password-protected Redis answers NOAUTH: it is there, the apps will authenticate.
    socket.on('data', (data) => done(/^(\+PONG|-NOAUTH)/.test(data.toString())));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function privateRedis() {
  if (spawnSync('redis-server', ['--version']).status !== 0) return null;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sessions-redis-'));
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ],
    {
      stdio: 'ignore',
    },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50 && !(await answersPing(url)); i++)
    await new Promise((r) => setTimeout(r, 100));
  return { url, child, dir };
}

function run(name, entry, env) {
  const child = spawn(process.execPath, [entry], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = (stream, target) => {
    let buffered = '';
    stream.on('data', (chunk) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) target.write(`[${name}] ${line}\n`);
    });
  };
  prefix(child.stdout, process.stdout);
  prefix(child.stderr, process.stderr);
  return child;
}

async function main() {
  buildIfNeeded();
  let redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  let redis = null;
  if (!(await answersPing(redisUrl))) {
    redis = await privateRedis();
    if (!redis) {
      console.error(
        `[start] No Redis answers at ${redisUrl} and redis-server is not on the PATH.\n` +
          '[start] Start one (e.g. `docker run -d -p 127.0.0.1:6379:6379 redis:7.0`) or set REDIS_URL, then run npm start again.',
      );
      process.exit(1);
    }
    log(
      `no Redis at ${redisUrl}: started a private redis-server at ${redis.url} for this run (nothing is persisted)`,
    );
    redisUrl = redis.url;
  }
  const env = {
    ...process.env,
    REDIS_URL: redisUrl,
    NODE_ENV: process.env.NODE_ENV || 'development',
  };
  const children = [run('api', ENTRIES.api, env), run('worker', ENTRIES.worker, env)];
  log(
    `api on http://127.0.0.1:${env.PORT || 3000} (docs at /docs), worker health on :${env.WORKER_PORT || 3001}`,
  );

  let stopping = false;
  const stop = async (code) => {
    if (stopping) return;
    stopping = true;
    log('stopping');
    await Promise.all(
      children.map(
        (child) =>
          new Promise((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', resolve);
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
          }),
      ),
    );
    if (redis) {
      redis.child.kill('SIGTERM');
      await new Promise((resolve) =>
        redis.child.exitCode !== null ? resolve() : redis.child.once('exit', resolve),
      );
      rmSync(redis.dir, { recursive: true, force: true });
    }
    log(`stopped (exit code ${code})`);
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));
  for (const child of children) {
    child.on('exit', (code, signal) => {
      if (stopping) return;
      console.error(
        `[start] a process exited unexpectedly (code ${code}, signal ${signal}): stopping the others`,
      );
      void stop(code || 1);
    });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
