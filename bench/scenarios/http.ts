/**
 * 2. HTTP: a guarded GET returning the user id, autocannon with the same concurrency against each
 * server, every server its own process with its own fresh redis-server: apps/api `GET /auth/me`
 * (our guard), a plain Express app with express-session + connect-redis, a Nest app with the seed's
 * guard and service, and (to separate library from app) the smallest Nest app with our guard.
 * Plus `GET /ping` (no I/O) of apps/api and of the Express app as ceilings. Paths are measured in
 * interleaved rounds and the median round is kept, so a noisy neighbour hits all alike.
 */
import { Redis } from 'ioredis';
import { RedisServerProcess } from '../../test/support/redis-server-process';
import { SMOKE, settings } from '../support/config';
import { median } from '../support/contenders';
import { ms, ratio as times } from '../support/format';
import { httpLoad, type LoadResult } from '../support/http-load';
import { info } from '../support/redis';
import { Section } from '../support/report';
import { ServerProcess } from '../support/server-process';
import { profileServer } from './http-profile';
import {
  apiServer,
  expressServer,
  type HttpServerKind,
  libraryServer,
  seedServer,
} from './http-servers';

const LOGGING = ['pino-http', 'pino', '@pinojs/redact', 'nestjs-pino', 'pino-std-serializers'];
const percent = (share: number): string => `${(share * 100).toFixed(1)}%`;

interface Run extends LoadResult {
  /** CPU time per request, in µs: the server process, its redis-server, the load generator. */
  serverCpuUs: number;
  redisCpuUs: number;
  loadCpuUs: number;
}

interface Running {
  server: ServerProcess;
  redis: RedisServerProcess;
  admin: Redis;
  headers: Record<string, string>;
}

interface Path {
  label: string;
  on: Running;
  path: string;
  headers: Record<string, string>;
  runs: Run[];
}

async function redisCpuSeconds(redis: Redis): Promise<number> {
  const cpu = await info(redis, 'cpu');
  return Number(cpu.get('used_cpu_user')) + Number(cpu.get('used_cpu_sys'));
}

async function measure(p: Path, seconds: number): Promise<Run> {
  const cpu = p.on.server.cpuSeconds();
  const redisCpu = await redisCpuSeconds(p.on.admin);
  const load = process.cpuUsage(); // autocannon runs in this process
  const result = await httpLoad(p.on.server.url(p.path), {
    connections: settings.httpConnections,
    seconds,
    headers: p.headers,
  });
  const loadUsed = process.cpuUsage(load);
  return {
    ...result,
    loadCpuUs: (loadUsed.user + loadUsed.system) / result.requests,
    serverCpuUs: ((p.on.server.cpuSeconds() - cpu) * 1e6) / result.requests,
    redisCpuUs: (((await redisCpuSeconds(p.on.admin)) - redisCpu) * 1e6) / result.requests,
  };
}

async function start(kind: HttpServerKind): Promise<Running> {
  const redis = await RedisServerProcess.start();
  const admin = new Redis(redis.url);
  try {
    const server = await ServerProcess.start(kind.name, kind.options(redis.url));
    return { server, redis, admin, headers: await kind.login(server) };
  } catch (error) {
    admin.disconnect();
    await redis.stop();
    throw error;
  }
}

async function stop(running: Running): Promise<void> {
  await running.server.stop();
  running.admin.disconnect();
  await running.redis.stop();
}

function describe(p: Path, run: Run): string {
  return (
    `${p.label}: ${run.requests.toLocaleString('en-US')} requests, p50 ${ms(run.p50)}, p99 ${ms(run.p99)}, ` +
    `CPU per request: server ${run.serverCpuUs.toFixed(0)} µs, its redis-server ${run.redisCpuUs.toFixed(1)} µs, ` +
    `load generator (autocannon) ${run.loadCpuUs.toFixed(0)} µs`
  );
}

export async function runHttp(): Promise<Section> {
  const section = new Section(
    '2. HTTP, guarded GET returning the user id',
    `autocannon -c ${settings.httpConnections}, cookie-authenticated; every server its own process ` +
      '(node + ts-node, the same for all) with its own fresh redis-server; apps/api with ' +
      'LOG_LEVEL=warn, LOGIN_RATE_LIMIT=0, SESSION_WRITE_RATE_LIMIT=0, SESSION_COOKIE_SECURE=false. Each path warmed up for ' +
      `${settings.httpWarmupSeconds} s, then ${settings.rounds} interleaved round(s) of ` +
      `${settings.httpSeconds} s per path; the median round (by req/s) is kept.`,
  );
  const running: Running[] = [];
  try {
    for (const kind of [apiServer, expressServer, seedServer, libraryServer])
      running.push(await start(kind));
    const [api, express, seed, library] = running;
    const path = (label: string, on: Running, p: string, auth: boolean): Path => ({
      label,
      on,
      path: p,
      headers: auth ? on.headers : {},
      runs: [],
    });
    const paths = [
      path('apps/api GET /auth/me (our guard)', api, '/auth/me', true),
      path('express-session + connect-redis GET /me', express, '/me', true),
      path('seed Nest app GET /me', seed, '/me', true),
      path('minimal Nest app + our guard GET /me', library, '/me', true),
      path('apps/api GET /ping (no I/O)', api, '/ping', false),
      path('Express GET /ping (no I/O)', express, '/ping', false),
    ];
    if (settings.httpWarmupSeconds > 0)
      for (const p of paths) await measure(p, settings.httpWarmupSeconds);
    for (let r = 0; r < settings.rounds; r++)
      for (const p of paths) p.runs.push(await measure(p, settings.httpSeconds));
    const [ours, peer, seedMe, libraryMe, apiPing, expressPing] = paths.map((p) =>
      median(p.runs, (run) => run.rps),
    );

    const vsPeer = { label: 'express-session /me', value: peer.rps };
    section.figure({ label: paths[0].label, value: ours.rps, unit: 'req/s', baseline: vsPeer });
    section.figure({ label: paths[1].label, value: peer.rps, unit: 'req/s' });
    section.figure({ label: paths[2].label, value: seedMe.rps, unit: 'req/s', baseline: vsPeer });
    section.figure({
      label: paths[3].label,
      value: libraryMe.rps,
      unit: 'req/s',
      baseline: vsPeer,
    });
    section.figure({ label: paths[4].label, value: apiPing.rps, unit: 'req/s', baseline: vsPeer });
    section.figure({
      label: paths[5].label,
      value: expressPing.rps,
      unit: 'req/s',
      baseline: vsPeer,
    });
    section.figure({
      label: 'apps/api /auth/me vs its own /ping',
      value: ours.rps,
      unit: 'req/s',
      baseline: { label: 'apps/api /ping', value: apiPing.rps },
    });
    const latency = (label: string, value: number, base: number, p: string): void =>
      section.figure({
        label,
        value,
        unit: 'ms',
        baseline: { label: `express-session ${p}`, value: base },
      });
    latency('apps/api /auth/me p50', ours.p50, peer.p50, 'p50');
    latency('apps/api /auth/me p99', ours.p99, peer.p99, 'p99');
    latency('seed Nest app /me p50', seedMe.p50, peer.p50, 'p50');
    latency('seed Nest app /me p99', seedMe.p99, peer.p99, 'p99');
    latency('minimal Nest app + our guard /me p50', libraryMe.p50, peer.p50, 'p50');
    latency('minimal Nest app + our guard /me p99', libraryMe.p99, peer.p99, 'p99');

    const ratio = ours.rps / peer.rps;
    const pass = ratio >= 1.5 && ours.p99 < peer.p99;
    section.target({
      name: 'guarded route (apps/api) req/s vs express-session + connect-redis, with lower p99',
      ratio,
      goal: '≥ 1.5× and lower p99',
      pass,
      detail: `p99 ${ms(ours.p99)} vs ${ms(peer.p99)}`,
    });
    const medians = [ours, peer, seedMe, libraryMe, apiPing, expressPing];
    paths.forEach((p, i) => section.note(describe(p, medians[i])));
    const us = (value: number): string => `${value.toFixed(0)} µs`;
    section.note(
      `finding: apps/api's /ping (no I/O, the guard returns at once) answers ` +
        `${times(apiPing.rps / peer.rps)} of express-session's guarded /me; /auth/me reaches ` +
        `${times(ours.rps / apiPing.rps)} of that ceiling. Server CPU per request: apps/api /ping ` +
        `${us(apiPing.serverCpuUs)} − minimal Nest app + our guard /me ${us(libraryMe.serverCpuUs)} = ` +
        `${us(apiPing.serverCpuUs - libraryMe.serverCpuUs)} for apps/api's own stack; /auth/me − /ping = ` +
        `${us(ours.serverCpuUs - apiPing.serverCpuUs)} for the guard and the larger answer; ` +
        `express-session /me ${us(peer.serverCpuUs)} + ${us(peer.redisCpuUs)} in its redis-server`,
    );
    if (!pass || process.env.BENCH_PROFILE === '1') {
      for (const r of running) await stop(r);
      running.length = 0;
      // The smoke run profiles one server only, to keep the code path alive within its time.
      for (const kind of SMOKE ? [apiServer] : [apiServer, expressServer, libraryServer]) {
        const { text, summary } = await profileServer(kind);
        section.note(text);
        if (kind === apiServer)
          section.note(
            `finding: in the apps/api profile, request logging (${LOGGING.join(', ')}) takes ` +
              `${percent(summary.ownerShare(LOGGING))} of the CPU at LOG_LEVEL=warn (no line is written ` +
              `for a 200), the session library (libs/session) ` +
              `${percent(summary.ownerShare(['libs/session']))}`,
          );
      }
    }
  } finally {
    for (const r of running) await stop(r);
  }
  return section;
}
