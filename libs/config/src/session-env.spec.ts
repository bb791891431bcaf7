import { EnvReader } from './env-reader';
import { readSessionEnv, SESSION_ENV_VARIABLES, sessionOptionsFromEnv } from './session-env';

const read = (env: Record<string, string>) =>
  readSessionEnv(new EnvReader(env, SESSION_ENV_VARIABLES));

describe('sessionOptionsFromEnv', () => {
  it('turns the shared variables into the library options, the same for every process', () => {
    const config = read({
      REDIS_URL: 'redis://10.0.0.5:6380',
      SESSION_PREFIX: 'app',
      SESSION_IDLE_TTL_SECONDS: '600',
      SESSION_ABSOLUTE_TTL_SECONDS: '7200',
      SESSION_STREAM_PARTITIONS: '8',
    });
    expect(sessionOptionsFromEnv(config)).toEqual({
      redis: { url: 'redis://10.0.0.5:6380', options: {} },
      keyPrefix: 'app',
      idleTtlSeconds: 600,
      absoluteTtlSeconds: 7200,
      streamPartitions: 8,
    });
  });

  it('connects to the cluster when REDIS_CLUSTER_NODES is set, with the given client options', () => {
    const config = read({ REDIS_CLUSTER_NODES: 'a:7000,b:7001' });
    expect(sessionOptionsFromEnv(config, { enableAutoPipelining: false }).redis).toEqual({
      cluster: {
        nodes: [
          { host: 'a', port: 7000 },
          { host: 'b', port: 7001 },
        ],
        options: { enableAutoPipelining: false, redisOptions: { enableAutoPipelining: false } },
      },
    });
  });
});
