import { AppProcess } from '../support/app-process';
import { RedisClusterProcess } from '../support/redis-cluster-process';
import { sleep } from '../support/sleep';
import { uniquePrefix } from '../support/test-redis';

jest.setTimeout(180_000);

const SHUTDOWN_TIMEOUT_MS = 3000;
const MARGIN_MS = 2000;

/**
 * The last Redis state of test/operations/shutdown.test.ts: a cluster master gone (killed, no
 * replica, so its slots have no master at all). The api and the worker, real processes on a
 * 3-master cluster, still exit within their shutdown timeout after SIGTERM; the time each took is
 * printed.
 */
describe('api and worker on SIGTERM with a cluster master gone', () => {
  let cluster: RedisClusterProcess;
  const procs: AppProcess[] = [];

  beforeAll(async () => {
    cluster = await RedisClusterProcess.start({ masters: 3 });
  });
  afterAll(async () => {
    for (const proc of procs) await proc.stop('SIGKILL');
    await cluster?.stop();
  });

  it('both exit in time', async () => {
    const env = {
      REDIS_CLUSTER_NODES: cluster.nodeList,
      SESSION_PREFIX: uniquePrefix('shutdown-cluster'),
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      WORKER_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      LOG_LEVEL: 'warn',
    };
    procs.push(await AppProcess.start('api', 'shutdown-cluster-api', env));
    procs.push(await AppProcess.start('worker', 'shutdown-cluster-worker', env));
    await cluster.servers[0].kill();
    await sleep(500);
    const results = await Promise.all(
      procs.map(async (proc) => {
        const started = Date.now();
        const code = await proc.stop('SIGTERM', SHUTDOWN_TIMEOUT_MS + MARGIN_MS);
        const tookMs = Date.now() - started;
        const how = code === null ? `signal ${proc.exitSignal}` : `code ${code}`;
        console.log(`${proc.name} with a master gone: SIGTERM → exited (${how}) in ${tookMs} ms`);
        return { app: proc.name, killedByTest: proc.exitSignal === 'SIGKILL' };
      }),
    );
    expect(results).toEqual([
      { app: 'shutdown-cluster-api', killedByTest: false },
      { app: 'shutdown-cluster-worker', killedByTest: false },
    ]);
  });
});
