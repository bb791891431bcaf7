/**
 * 2. HTTP: a guarded GET returning the user id, autocannon with the same concurrency against each
 * server, every server its own process with its own fresh redis-server: apps/api `GET /auth/me`
 * (our guard), built and started as the README starts it, on Fastify and on Express; a plain
 * Express app with express-session + connect-redis; a plain Fastify app with @fastify/session and
 * the same Redis store; a Nest app with the seed's guard and service, and (to separate library
 * from app) the smallest Nest app with our guard. Plus `GET /ping` (no I/O) of both apps/api
 * variants and of the Express app as ceilings. Paths are measured in interleaved rounds; the
 * median round is kept and the range of the per-round ratios reported, so a noisy neighbour hits
 * all alike and shows.
 */
import { Redis } from 'ioredis';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RedisServerProcess } from '../../test/support/redis-server-process';
import { SMOKE, settings } from '../support/config';
import { median } from '../support/contenders';
import { ms, ratio as times } from '../support/format';
import { httpLoad, type LoadResult } from '../support/http-load';
import { info } from '../support/redis';
import { Section } from '../support/report';
import { ROOT, ServerProcess } from '../support/server-process';
import { profileServer } from './http-profile';
import {
  API_ENTRY,
  apiServer,
  expressServer,
  fastifySessionServer,
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

/**
 * Builds apps/api as `npm start` does, so the measured app is the one the README runs. The smoke
 * run (and BENCH_SKIP_BUILD=1) builds only when there is no build yet: it checks the code path,
 * not the figures.
 */
function buildApi(): void {
  const skip = SMOKE || process.env.BENCH_SKIP_BUILD === '1';
  if (skip && existsSync(join(ROOT, API_ENTRY))) return;
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
}

/** The median of the per-round ratios a/b, with their range (rounds are interleaved). */
function roundRatios(a: Run[], b: Run[]): { median: number; min: number; max: number } {
  const ratios = a.map((run, i) => run.rps / b[i].rps).sort((x, y) => x - y);
  return {
    median: ratios[Math.floor(ratios.length / 2)],
    min: ratios[0],
    max: ratios[ratios.length - 1],
  };
}

const range = (r: { min: number; max: number }): string => `rounds ${times(r.min)}–${times(r.max)}`;

export async function runHttp(): Promise<Section> {
  const section = new Section(
    '2. HTTP, guarded GET returning the user id',
    `autocannon -c ${settings.httpConnections}, cookie-authenticated; every server its own process ` +
      'with its own fresh redis-server: apps/api built (`npm run build`) and started as ' +
      '`npm run start:api` (plain node), on HTTP_ADAPTER=fastify (the default) and express, with ' +
      'LOG_LEVEL=warn, LOGIN_RATE_LIMIT=0, SESSION_WRITE_RATE_LIMIT=0, SESSION_COOKIE_SECURE=false; ' +
      'the peers from source (ts-node transpile-only, compiled at start-up). Each path warmed up for ' +
      `${settings.httpWarmupSeconds} s, then ${settings.rounds} interleaved round(s) of ` +
      `${settings.httpSeconds} s per path; the median round (by req/s) is kept, ratios are ` +
      'the median of the per-round ratios with their range. autocannon runs on the same 2 cores: ' +
      'above ~15k req/s it is the load generator that saturates (its CPU per request is reported).',
  );
  buildApi();
  const running: Running[] = [];
  try {
    const kinds = [
      apiServer('fastify'),
      apiServer('express'),
      expressServer,
      fastifySessionServer,
      seedServer,
      libraryServer,
    ];
    for (const kind of kinds) running.push(await start(kind));
    const [apiFastify, apiExpress, express, fastifySession, seed, library] = running;
    const path = (label: string, on: Running, p: string, auth: boolean): Path => ({
      label,
      on,
      path: p,
      headers: auth ? on.headers : {},
      runs: [],
    });
    const paths = [
      path('apps/api on Fastify GET /auth/me (our guard)', apiFastify, '/auth/me', true),
      path('apps/api on Fastify GET /ping (no I/O)', apiFastify, '/ping', false),
      path('apps/api on Express GET /auth/me (our guard)', apiExpress, '/auth/me', true),
      path('apps/api on Express GET /ping (no I/O)', apiExpress, '/ping', false),
      path('express-session + connect-redis GET /me', express, '/me', true),
      path('@fastify/session + connect-redis GET /me', fastifySession, '/me', true),
      path('seed Nest app GET /me', seed, '/me', true),
      path('minimal Nest app + our guard GET /me', library, '/me', true),
      path('Express GET /ping (no I/O)', express, '/ping', false),
    ];
    if (settings.httpWarmupSeconds > 0)
      for (const p of paths) await measure(p, settings.httpWarmupSeconds);
    for (let r = 0; r < settings.rounds; r++)
      for (const p of paths) p.runs.push(await measure(p, settings.httpSeconds));
    const medians = paths.map((p) => median(p.runs, (run) => run.rps));
    const [fMe, fPing, eMe, ePing, peer, fastifyPeer] = medians;
    const [fMeP, fPingP, eMeP, , peerP, fastifyPeerP] = paths;

    const vsPeer = { label: 'express-session /me', value: peer.rps };
    paths.forEach((p, i) =>
      section.figure({
        label: p.label,
        value: medians[i].rps,
        unit: 'req/s',
        ...(i === 4 ? {} : { baseline: vsPeer }),
      }),
    );
    const vsExpressSession = roundRatios(fMeP.runs, peerP.runs);
    const vsFastifySession = roundRatios(fMeP.runs, fastifyPeerP.runs);
    const vsPing = roundRatios(fMeP.runs, fPingP.runs);
    const expressVsPing = roundRatios(eMeP.runs, paths[3].runs);
    const fastifyVsExpress = roundRatios(fMeP.runs, eMeP.runs);
    section.figure({
      label: 'apps/api on Fastify /auth/me vs @fastify/session /me',
      value: fMe.rps,
      unit: 'req/s',
      baseline: { label: '@fastify/session /me', value: fastifyPeer.rps },
    });
    section.figure({
      label: 'apps/api on Fastify /auth/me vs its own /ping',
      value: fMe.rps,
      unit: 'req/s',
      baseline: { label: 'apps/api on Fastify /ping', value: fPing.rps },
    });
    section.figure({
      label: 'apps/api on Express /auth/me vs its own /ping',
      value: eMe.rps,
      unit: 'req/s',
      baseline: { label: 'apps/api on Express /ping', value: ePing.rps },
    });
    const latency = (label: string, value: number, base: number, p: string): void =>
      section.figure({
        label,
        value,
        unit: 'ms',
        baseline: { label: `express-session ${p}`, value: base },
      });
    latency('apps/api on Fastify /auth/me p50', fMe.p50, peer.p50, 'p50');
    latency('apps/api on Fastify /auth/me p99', fMe.p99, peer.p99, 'p99');
    latency('apps/api on Express /auth/me p99', eMe.p99, peer.p99, 'p99');
    latency('@fastify/session /me p99', fastifyPeer.p99, peer.p99, 'p99');

    section.target({
      name: 'guarded route (apps/api) req/s vs express-session + connect-redis, with lower p99',
      ratio: vsExpressSession.median,
      goal: '≥ 1.5× and lower p99',
      pass: vsExpressSession.median >= 1.5 && fMe.p99 < peer.p99,
      detail: `${range(vsExpressSession)}; p99 ${ms(fMe.p99)} vs ${ms(peer.p99)}`,
    });
    section.target({
      name: 'guarded route (apps/api on Fastify) req/s vs @fastify/session + connect-redis',
      ratio: vsFastifySession.median,
      goal: '≥ 1.3×',
      pass: vsFastifySession.median >= 1.3,
      detail: `${range(vsFastifySession)}; p99 ${ms(fMe.p99)} vs ${ms(fastifyPeer.p99)}`,
    });
    section.target({
      name: 'guarded /auth/me vs the same app’s /ping (authentication nearly free)',
      ratio: vsPing.median,
      goal: '≥ 0.9×',
      pass: vsPing.median >= 0.9,
      detail:
        `${range(vsPing)}; server CPU per request /auth/me ${fMe.serverCpuUs.toFixed(0)} µs vs ` +
        `/ping ${fPing.serverCpuUs.toFixed(0)} µs; on Express ${times(expressVsPing.median)} (${range(expressVsPing)})`,
    });
    paths.forEach((p, i) => section.note(describe(p, medians[i])));
    const us = (value: number): string => `${value.toFixed(0)} µs`;
    section.note(
      `finding: Fastify vs Express, the same apps/api: /auth/me ${times(fastifyVsExpress.median)} ` +
        `the req/s (${range(fastifyVsExpress)}); server CPU per request /auth/me ` +
        `${us(fMe.serverCpuUs)} vs ${us(eMe.serverCpuUs)}, /ping ${us(fPing.serverCpuUs)} vs ` +
        `${us(ePing.serverCpuUs)}. ${fMe.rps >= eMe.rps ? 'Fastify' : 'Express'} is the faster: ` +
        'the default (HTTP_ADAPTER) should be it.',
    );
    section.note(
      `finding: authentication on Fastify costs ${us(fMe.serverCpuUs - fPing.serverCpuUs)} of server ` +
        `CPU per request over /ping (guard, L1 hit, the larger answer); express-session /me costs ` +
        `${us(peer.serverCpuUs)} + ${us(peer.redisCpuUs)} in its redis-server, @fastify/session /me ` +
        `${us(fastifyPeer.serverCpuUs)} + ${us(fastifyPeer.redisCpuUs)}`,
    );
    const profileWanted =
      process.env.BENCH_PROFILE === '1' || vsPing.median < 0.9 || vsExpressSession.median < 1.5;
    if (profileWanted) {
      for (const r of running) await stop(r);
      running.length = 0;
      const api = apiServer('fastify');
      // The smoke run profiles one server only, to keep the code path alive within its time.
      for (const kind of SMOKE ? [api] : [api, fastifySessionServer, expressServer]) {
        const { text, summary } = await profileServer(kind);
        section.note(text);
        if (kind === api)
          section.note(
            `finding: in the apps/api profile, request logging (${LOGGING.join(', ')}) takes ` +
              `${percent(summary.ownerShare(LOGGING))} of the CPU at LOG_LEVEL=warn (no line is written ` +
              `for a 200), the session library (libs/session) ` +
              `${percent(summary.ownerShare(['libs/session', 'dist/apps']))}`,
          );
      }
    }
  } finally {
    for (const r of running) await stop(r);
  }
  return section;
}
