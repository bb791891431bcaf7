'use strict';
/**
 * Which Redis `npm start` runs against, and the private redis-server it starts when none is
 * there. Only a plain redis:// URL on this machine is ever replaced by a private Redis: a TLS
 * (rediss://) URL, a remote host or REDIS_CLUSTER_NODES is the operator's deployment and is used
 * as given (the apps answer 503 until it is reachable).
 */
const { spawn, spawnSync } = require('node:child_process');
const { mkdtempSync } = require('node:fs');
const net = require('node:net');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '']);

/**
 * 'redis' when something at host:port answers PING (PONG, or NOAUTH from a protected Redis),
 * 'absent' when nothing accepts the connection in time, 'other' when something else answers.
 */
function probe(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({
      host: hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
      port: Number(port || 6379),
    });
    const done = (result) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(1000, () => done(socket.connecting ? 'absent' : 'other'));
    socket.on('error', () => done('absent'));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) =>
      done(/^(\+PONG|-NOAUTH)/.test(data.toString()) ? 'redis' : 'other'),
    );
  });
}

/** Whether npm start may start a private Redis in place of this URL. */
function replaceable(url) {
  const { protocol, hostname } = new URL(url);
  return protocol === 'redis:' && LOOPBACK.has(hostname);
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

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts redis-server on a free loopback port, in its own process group (Ctrl-C in the terminal
 * reaches the apps, not Redis, which must outlive their draining), and waits until it answers.
 * Returns null when redis-server is not installed; throws when it does not come up.
 */
async function startPrivateRedis() {
  if (spawnSync('redis-server', ['--version']).status !== 0) return null;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sessions-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = spawn('redis-server', [...args, '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk.toString()));
  child.stderr.on('data', (chunk) => (output += chunk.toString()));
  const url = `redis://127.0.0.1:${port}`;
  const redis = { url, child, dir };
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    if ((await probe(url)) === 'redis') return redis;
    await sleep(100);
  }
  const error = new Error(`the private redis-server did not answer on ${url}:\n${output}`);
  error.redis = redis;
  throw error;
}

module.exports = { probe, replaceable, startPrivateRedis };
