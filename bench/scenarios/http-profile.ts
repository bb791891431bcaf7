/**
 * When the HTTP target is missed (or BENCH_PROFILE=1): the server again, with the V8 CPU profiler
 * running for the load window only, summarized by self time per package and per function.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMOKE, settings } from '../support/config';
import { formatShares, type ProfileSummary, summarizeProfile } from '../support/cpu-profile';
import { httpLoad } from '../support/http-load';
import { withPrivateRedis } from '../support/redis';
import { ServerProcess } from '../support/server-process';
import type { HttpServerKind } from './http-servers';

export async function profileServer(
  kind: HttpServerKind,
): Promise<{ text: string; summary: ProfileSummary }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-profile-'));
  const file = join(dir, 'server.cpuprofile');
  try {
    return await withPrivateRedis(async (url) => {
      const server = await ServerProcess.start(kind.name, {
        ...kind.options(url),
        cpuProfileFile: file,
      });
      try {
        const headers = await kind.login(server);
        const options = { connections: settings.httpConnections, headers };
        if (!SMOKE) await httpLoad(server.url(kind.guardedPath), { ...options, seconds: 1 }); // warm-up
        await server.toggleProfile('started');
        const run = await httpLoad(server.url(kind.guardedPath), {
          ...options,
          seconds: settings.profileSeconds,
        });
        await server.toggleProfile('written');
        const summary = summarizeProfile(file);
        const text =
          `CPU profile of ${kind.name} ${kind.guardedPath} under load (${Math.round(run.rps)} req/s while ` +
          `profiled, idle ${(summary.idle * 100).toFixed(0)}%); CPU by owning package (Node and ` +
          `native code charged to their caller): ${formatShares(summary.byOwner)}; top functions ` +
          `(self): ${formatShares(summary.byFunction)}`;
        return { text, summary };
      } finally {
        await server.stop();
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
