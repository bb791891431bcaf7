import type { Env } from '@app/config';
import { CONFIG_VARIABLE_NAMES, CONFIG_VARIABLES, ConfigError, loadConfig } from './config';

/** Production-like: USERS_FILE is required unless NODE_ENV=development. */
const USERS = '/etc/api/users.json';
const load = (env: Env) => loadConfig({ USERS_FILE: USERS, ...env });

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    expect(load({})).toEqual({
      nodeEnv: 'production',
      port: 3000,
      httpAdapter: 'fastify',
      redisUrl: 'redis://127.0.0.1:6379',
      redisClusterNodes: null,
      sessionPrefix: 'sess',
      idleTtlSeconds: 3600,
      absoluteTtlSeconds: 86_400,
      maxSessionsPerUser: 100,
      sweepIntervalSeconds: 60,
      cookieSecure: true,
      usersFile: USERS,
      loginRateLimit: 10,
      loginUserFailureLimit: 100,
      trustProxy: false,
      docs: { enabled: false },
      metrics: { enabled: true, token: undefined },
      allowedOrigins: [],
      sessionWriteRateLimit: 60,
      bodyLimitBytes: 32_768,
      shutdownTimeoutMs: 8000,
      shutdownDelayMs: 0,
      streamPartitions: 16,
      logLevel: 'info',
    });
  });

  it('lists every variable it reads, with the defaults it applies', () => {
    expect(CONFIG_VARIABLE_NAMES).toEqual(
      expect.arrayContaining([
        'PORT',
        'REDIS_URL',
        'SESSION_PREFIX',
        'SESSION_IDLE_TTL_SECONDS',
        'SESSION_ABSOLUTE_TTL_SECONDS',
        'SESSION_MAX_PER_USER',
        'SESSION_SWEEP_INTERVAL_SECONDS',
        'SESSION_COOKIE_SECURE',
        'USERS_FILE',
        'LOGIN_RATE_LIMIT',
        'SESSION_STREAM_PARTITIONS',
      ]),
    );
    expect(new Set(CONFIG_VARIABLE_NAMES).size).toBe(CONFIG_VARIABLE_NAMES.length);
    // Setting every variable to its listed default changes nothing.
    const defaults = Object.fromEntries(
      CONFIG_VARIABLES.filter((v) => v.default !== undefined).map((v) => [v.name, v.default]),
    );
    expect(load(defaults)).toEqual(load({}));
  });

  it('reads every variable', () => {
    const config = load({
      NODE_ENV: 'development',
      PORT: '8080',
      HTTP_ADAPTER: 'Express',
      REDIS_URL: 'rediss://user:pw@redis.internal:6380/2',
      SESSION_PREFIX: 'app.sess',
      SESSION_IDLE_TTL_SECONDS: '600',
      SESSION_ABSOLUTE_TTL_SECONDS: '7200',
      SESSION_MAX_PER_USER: '5',
      SESSION_SWEEP_INTERVAL_SECONDS: '30',
      USERS_FILE: '/etc/api/users.json',
      LOGIN_RATE_LIMIT: '0',
      SESSION_STREAM_PARTITIONS: '32',
      LOG_LEVEL: 'DEBUG',
      SHUTDOWN_TIMEOUT_MS: '20000',
      SHUTDOWN_DELAY_MS: '5000',
    });
    expect(config).toEqual({
      nodeEnv: 'development',
      port: 8080,
      httpAdapter: 'express',
      redisUrl: 'rediss://user:pw@redis.internal:6380/2',
      redisClusterNodes: null,
      sessionPrefix: 'app.sess',
      idleTtlSeconds: 600,
      absoluteTtlSeconds: 7200,
      maxSessionsPerUser: 5,
      sweepIntervalSeconds: 30,
      cookieSecure: false,
      usersFile: '/etc/api/users.json',
      loginRateLimit: 0,
      loginUserFailureLimit: 0,
      trustProxy: false,
      docs: { enabled: true, token: undefined },
      metrics: { enabled: true, token: undefined },
      allowedOrigins: [],
      sessionWriteRateLimit: 60,
      bodyLimitBytes: 32_768,
      shutdownTimeoutMs: 20_000,
      shutdownDelayMs: 5000,
      streamPartitions: 32,
      logLevel: 'debug',
    });
  });

  it('refuses a shutdown delay that would leave the drain less than half the timeout', () => {
    expect(() => load({ SHUTDOWN_TIMEOUT_MS: '8000', SHUTDOWN_DELAY_MS: '4001' })).toThrow(
      /SHUTDOWN_DELAY_MS: must be at most half of SHUTDOWN_TIMEOUT_MS/,
    );
    expect(load({ SHUTDOWN_TIMEOUT_MS: '8000', SHUTDOWN_DELAY_MS: '4000' }).shutdownDelayMs).toBe(
      4000,
    );
  });

  it('defaults the Secure cookie flag off only for NODE_ENV=development, and lets it be set', () => {
    expect(load({ NODE_ENV: 'development' }).cookieSecure).toBe(false);
    expect(load({ NODE_ENV: 'test' }).cookieSecure).toBe(true);
    expect(load({ NODE_ENV: 'development', SESSION_COOKIE_SECURE: 'true' }).cookieSecure).toBe(
      true,
    );
    expect(load({ SESSION_COOKIE_SECURE: '0' }).cookieSecure).toBe(false);
  });

  it('refuses an HTTP_ADAPTER it does not know, naming the variable', () => {
    expect(() => load({ HTTP_ADAPTER: 'koa' })).toThrow(
      'Invalid environment variable HTTP_ADAPTER: must be one of fastify, express (got "koa")',
    );
  });

  it('treats an empty variable as unset', () => {
    expect(load({ NODE_ENV: 'development', PORT: '', USERS_FILE: ' ' })).toMatchObject({
      port: 3000,
      usersFile: undefined,
    });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '3000.5'],
    ['REDIS_URL', 'http://localhost:6379'],
    ['REDIS_URL', 'redis://'],
    ['SESSION_PREFIX', 'has space'],
    ['SESSION_PREFIX', 'x'.repeat(65)],
    ['SESSION_IDLE_TTL_SECONDS', '0'],
    ['SESSION_ABSOLUTE_TTL_SECONDS', '1e3'],
    ['SESSION_MAX_PER_USER', '-5'],
    ['SESSION_SWEEP_INTERVAL_SECONDS', '0'],
    ['SESSION_COOKIE_SECURE', 'maybe'],
    ['LOGIN_RATE_LIMIT', 'ten'],
    ['SESSION_STREAM_PARTITIONS', '0'],
    ['SESSION_STREAM_PARTITIONS', '2048'],
    ['LOG_LEVEL', 'loud'],
  ])('refuses %s=%s with an error naming it', (name, value) => {
    let error: unknown;
    try {
      load({ [name]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(name);
    expect((error as Error).message).toContain(`Invalid environment variable ${name}:`);
  });

  it('refuses to start without USERS_FILE unless NODE_ENV=development, saying what to do', () => {
    for (const env of [{}, { NODE_ENV: 'production' }, { NODE_ENV: 'test' }]) {
      expect(() => loadConfig(env)).toThrow(
        /^Invalid environment variable USERS_FILE: is required unless NODE_ENV=development .*set USERS_FILE/,
      );
    }
    expect(loadConfig({ NODE_ENV: 'development' }).usersFile).toBeUndefined();
  });

  it('reads TRUST_PROXY as a hop count or a list of addresses/CIDRs, and refuses true', () => {
    expect(load({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(load({ TRUST_PROXY: '0' }).trustProxy).toBe(false);
    expect(load({ TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::/8, 192.0.2.1' }).trustProxy).toEqual([
      'loopback',
      '10.0.0.0/8',
      'fd00::/8',
      '192.0.2.1',
    ]);
    for (const bad of ['true', '10.0.0.0/33', 'proxy.internal', '1.2.3', 'loopback,']) {
      expect(() => load({ TRUST_PROXY: bad })).toThrow(
        /^Invalid environment variable TRUST_PROXY:/,
      );
    }
  });

  it('turns /docs on only in development unless DOCS_ENABLED, and checks the access tokens', () => {
    expect(load({ NODE_ENV: 'development' }).docs).toEqual({ enabled: true, token: undefined });
    expect(load({ DOCS_ENABLED: 'true', DOCS_TOKEN: 'x'.repeat(16) }).docs).toEqual({
      enabled: true,
      token: 'x'.repeat(16),
    });
    expect(load({ METRICS_ENABLED: 'false' }).metrics).toEqual({ enabled: false });
    expect(() => load({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN: must be 16 to 256/);
    expect(() => load({ DOCS_ENABLED: 'yes', DOCS_TOKEN: 'has a space in it!' })).toThrow(
      /DOCS_TOKEN/,
    );
  });

  it('reads ALLOWED_ORIGINS as browser origins and names it when one is not', () => {
    expect(
      load({ ALLOWED_ORIGINS: 'https://App.example.com, http://localhost:5173' }).allowedOrigins,
    ).toEqual(['https://app.example.com', 'http://localhost:5173']);
    for (const bad of ['app.example.com', 'https://app.example.com/path', 'ftp://x.example', '*']) {
      expect(() => load({ ALLOWED_ORIGINS: bad })).toThrow(
        /^Invalid environment variable ALLOWED_ORIGINS:/,
      );
    }
  });

  it('sets the per-user login ceiling to 10 × LOGIN_RATE_LIMIT, never within reach of one address', () => {
    expect(load({ LOGIN_RATE_LIMIT: '5' }).loginUserFailureLimit).toBe(50);
    expect(
      load({ LOGIN_RATE_LIMIT: '5', LOGIN_USER_FAILURE_LIMIT: '11' }).loginUserFailureLimit,
    ).toBe(11);
    expect(
      load({ LOGIN_RATE_LIMIT: '5', LOGIN_USER_FAILURE_LIMIT: '0' }).loginUserFailureLimit,
    ).toBe(0);
    expect(() => load({ LOGIN_RATE_LIMIT: '5', LOGIN_USER_FAILURE_LIMIT: '10' })).toThrow(
      /^Invalid environment variable LOGIN_USER_FAILURE_LIMIT: must be over 2 × LOGIN_RATE_LIMIT \(10\)/,
    );
  });

  it('refuses an absolute TTL shorter than the idle TTL', () => {
    expect(() =>
      load({ SESSION_IDLE_TTL_SECONDS: '600', SESSION_ABSOLUTE_TTL_SECONDS: '60' }),
    ).toThrow(/SESSION_ABSOLUTE_TTL_SECONDS: must be at least SESSION_IDLE_TTL_SECONDS \(600\)/);
  });
});

describe('loadConfig on Redis Cluster', () => {
  it('reads REDIS_CLUSTER_NODES into seed nodes and names the variable when one is malformed', () => {
    expect(
      load({ REDIS_CLUSTER_NODES: 'redis-1:7000, 10.0.0.2:7001,[::1]:7002' }).redisClusterNodes,
    ).toEqual([
      { host: 'redis-1', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
      { host: '::1', port: 7002 },
    ]);
    expect(() => load({ REDIS_CLUSTER_NODES: 'redis-1' })).toThrow(/REDIS_CLUSTER_NODES/);
    expect(() => load({ REDIS_CLUSTER_NODES: 'redis-1:99999' })).toThrow(/REDIS_CLUSTER_NODES/);
  });
});
