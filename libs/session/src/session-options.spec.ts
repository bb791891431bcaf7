import { SessionConfigError } from './errors';
import { DEFAULT_FORBIDDEN_DATA_KEYS } from './forbidden-data';
import { resolveSessionOptions, type SessionModuleOptions } from './session-options';
import type { Session } from './session.types';

const redis = { url: 'redis://localhost:6379' };

function resolve(extra: Record<string, unknown> = {}) {
  const options: SessionModuleOptions = { redis, ...extra };
  return resolveSessionOptions(options);
}

/** Runs resolve and returns the SessionConfigError it raised (fails the test otherwise). */
function configError(extra: Record<string, unknown>): SessionConfigError {
  try {
    resolve(extra);
  } catch (error) {
    expect(error).toBeInstanceOf(SessionConfigError);
    return error as SessionConfigError;
  }
  throw new Error(`expected SessionConfigError for ${JSON.stringify(extra)}`);
}

function sessionWith(data: Session['data']): Session {
  return {
    sessionId: '0-x',
    userId: 'u',
    data,
    csrfToken: 'c',
    createdAt: 0,
    lastAccessedAt: 0,
    expiresAt: 0,
    absoluteExpiresAt: 0,
  };
}

describe('resolveSessionOptions defaults', () => {
  const options = resolve();

  it('uses idle 3600 s and absolute 86400 s, in milliseconds', () => {
    expect(options.idleTtlMs).toBe(3_600_000);
    expect(options.absoluteTtlMs).toBe(86_400_000);
  });

  it('keeps stream events for the absolute TTL by default', () => {
    expect(options.streamRetentionMs).toBe(options.absoluteTtlMs);
  });

  it('uses 4096 data bytes, 16 partitions, 2000 ms command timeout and prefix `sess`', () => {
    expect(options.maxDataBytes).toBe(4096);
    expect(options.streamPartitions).toBe(16);
    expect(options.commandTimeoutMs).toBe(2000);
    expect(options.keyPrefix).toBe('sess');
  });

  it('caps data at 64 keys, a patch at as many, and each stream at ~1,000,000 entries', () => {
    expect(options.maxDataKeys).toBe(64);
    expect(options.maxPatchKeys).toBe(64);
    expect(options.streamMaxLength).toBe(1_000_000);
  });

  it('refuses card numbers and keeps `roles` server-owned by default', () => {
    expect(options.refuseCardNumbers).toBe(true);
    expect(options.serverOwnedDataKeys).toEqual(['roles']);
  });

  it('touches at most once a minute for the default idle TTL', () => {
    expect(options.touchIntervalMs).toBe(60_000);
  });

  it('derives the touch interval as min(60, idle/10) seconds', () => {
    expect(resolve({ idleTtlSeconds: 300 }).touchIntervalMs).toBe(30_000);
    expect(resolve({ idleTtlSeconds: 1 }).touchIntervalMs).toBe(0);
  });

  it('uses a secure lax `__Host-session_id` cookie on `/`, header `x-session-id`, CSRF on', () => {
    expect(options.cookie).toEqual({
      name: '__Host-session_id',
      secure: true,
      sameSite: 'lax',
      path: '/',
      domain: undefined,
      hostPrefix: true,
    });
    expect(options.headerName).toBe('x-session-id');
    expect(options.csrf).toEqual({ enabled: true, headerName: 'x-csrf-token' });
  });

  it('forbids the default password and card keys', () => {
    expect(options.forbiddenDataKeys).toEqual([...DEFAULT_FORBIDDEN_DATA_KEYS]);
  });

  it('passes the redis config through unchanged', () => {
    expect(options.redis).toBe(redis);
  });

  it('takes roles from session.data.roles only when it is a string array', () => {
    expect(options.resolveRoles(sessionWith({ roles: ['admin', 'user'] }))).toEqual([
      'admin',
      'user',
    ]);
    expect(options.resolveRoles(sessionWith({ roles: ['admin', 1] }))).toEqual([]);
    expect(options.resolveRoles(sessionWith({ roles: 'admin' }))).toEqual([]);
    expect(options.resolveRoles(sessionWith({}))).toEqual([]);
  });
});

describe('resolveSessionOptions accepted values', () => {
  it('lower-cases header names', () => {
    const options = resolve({ headerName: 'X-Session-Token', csrf: { headerName: 'X-CSRF' } });
    expect(options.headerName).toBe('x-session-token');
    expect(options.csrf.headerName).toBe('x-csrf');
  });

  it('normalizes custom forbidden keys', () => {
    expect(resolve({ forbiddenDataKeys: ['API_Key', 'ssn'] }).forbiddenDataKeys).toEqual([
      'apikey',
      'ssn',
    ]);
  });

  it('normalizes custom server-owned keys and limits', () => {
    const options = resolve({
      serverOwnedDataKeys: ['Roles', 'tenant_id'],
      maxDataKeys: 10,
      maxPatchKeys: 5,
      refuseCardNumbers: false,
      streamMaxLength: 100,
    });
    expect(options.serverOwnedDataKeys).toEqual(['roles', 'tenantid']);
    expect([options.maxDataKeys, options.maxPatchKeys]).toEqual([10, 5]);
    expect(options.refuseCardNumbers).toBe(false);
    expect(options.streamMaxLength).toBe(100);
  });

  it('accepts server-owned keys without roles when the app resolves roles itself', () => {
    const options = resolve({ serverOwnedDataKeys: [], resolveRoles: () => [] });
    expect(options.serverOwnedDataKeys).toEqual([]);
  });

  it('accepts absolute === idle, touch = idle - 1 and retention === absolute', () => {
    const options = resolve({
      idleTtlSeconds: 100,
      absoluteTtlSeconds: 100,
      touchIntervalSeconds: 99,
      streamRetentionSeconds: 100,
    });
    expect(options.absoluteTtlMs).toBe(100_000);
    expect(options.touchIntervalMs).toBe(99_000);
    expect(options.streamRetentionMs).toBe(100_000);
  });

  it('accepts { options } and { client } redis configs', () => {
    const client = {};
    expect(resolve({ redis: { options: { host: 'h' } } }).redis).toEqual({
      options: { host: 'h' },
    });
    expect(resolve({ redis: { client } }).redis).toEqual({ client });
    expect(resolve({ redis: { url: 'rediss://h:6380' } }).redis).toEqual({
      url: 'rediss://h:6380',
    });
  });

  it('accepts sameSite none with a secure cookie', () => {
    expect(resolve({ cookie: { sameSite: 'none', secure: true } }).cookie.sameSite).toBe('none');
  });

  it('uses a custom resolveRoles', () => {
    const resolveRoles = () => ['x'];
    expect(resolve({ resolveRoles }).resolveRoles).toBe(resolveRoles);
  });
});

describe('resolveSessionOptions rejects each bad option, naming it', () => {
  it.each([
    ['idleTtlSeconds', { idleTtlSeconds: -1 }],
    ['idleTtlSeconds', { idleTtlSeconds: 0 }],
    ['idleTtlSeconds', { idleTtlSeconds: 1.5 }],
    ['idleTtlSeconds', { idleTtlSeconds: '3600' }],
    ['idleTtlSeconds', { idleTtlSeconds: Number.NaN }],
    ['idleTtlSeconds', { idleTtlSeconds: Number.POSITIVE_INFINITY }],
    ['idleTtlSeconds', { idleTtlSeconds: 31_536_001, absoluteTtlSeconds: 31_536_000 }],
    ['absoluteTtlSeconds', { absoluteTtlSeconds: -5 }],
    ['absoluteTtlSeconds', { absoluteTtlSeconds: 2.5 }],
    ['absoluteTtlSeconds', { idleTtlSeconds: 600, absoluteTtlSeconds: 599 }],
    ['absoluteTtlSeconds', { idleTtlSeconds: 100_000 }],
    ['touchIntervalSeconds', { idleTtlSeconds: 60, touchIntervalSeconds: 60 }],
    ['touchIntervalSeconds', { idleTtlSeconds: 60, touchIntervalSeconds: 61 }],
    ['touchIntervalSeconds', { touchIntervalSeconds: -1 }],
    ['touchIntervalSeconds', { touchIntervalSeconds: 0.5 }],
    ['streamRetentionSeconds', { streamRetentionSeconds: 86_399 }],
    ['streamRetentionSeconds', { absoluteTtlSeconds: 7200, streamRetentionSeconds: 3600 }],
    ['streamRetentionSeconds', { streamRetentionSeconds: 31_536_000 * 2 + 1 }],
    ['forbiddenDataKeys', { forbiddenDataKeys: 'password' }],
    ['forbiddenDataKeys', { forbiddenDataKeys: ['password', ''] }],
    ['forbiddenDataKeys', { forbiddenDataKeys: ['password', 3] }],
    ['forbiddenDataKeys', { forbiddenDataKeys: ['password', '\u200b.-'] }],
    ['serverOwnedDataKeys', { serverOwnedDataKeys: 'roles' }],
    ['serverOwnedDataKeys', { serverOwnedDataKeys: ['roles', '_'] }],
    ['serverOwnedDataKeys', { serverOwnedDataKeys: ['tenant'] }],
    ['serverOwnedDataKeys', { serverOwnedDataKeys: [] }],
    ['refuseCardNumbers', { refuseCardNumbers: 'yes' }],
    ['maxDataKeys', { maxDataKeys: 0 }],
    ['maxDataKeys', { maxDataKeys: 100_001 }],
    ['maxPatchKeys', { maxPatchKeys: 0 }],
    ['maxPatchKeys', { maxDataKeys: 10, maxPatchKeys: 11 }],
    ['streamMaxLength', { streamMaxLength: 99 }],
    ['streamMaxLength', { streamMaxLength: 1.5 }],
    ['keyPrefix', { keyPrefix: 'sess{p1}' }],
    ['keyPrefix', { keyPrefix: 'a:b' }],
    ['keyPrefix', { keyPrefix: '' }],
    ['keyPrefix', { keyPrefix: 'has space' }],
    ['keyPrefix', { keyPrefix: 'x'.repeat(65) }],
    ['keyPrefix', { keyPrefix: 42 }],
    ['maxDataBytes', { maxDataBytes: 15 }],
    ['maxDataBytes', { maxDataBytes: 1_048_577 }],
    ['maxDataBytes', { maxDataBytes: 100.5 }],
    ['streamPartitions', { streamPartitions: 0 }],
    ['streamPartitions', { streamPartitions: 1025 }],
    ['streamPartitions', { streamPartitions: '16' }],
    ['commandTimeoutMs', { commandTimeoutMs: 9 }],
    ['commandTimeoutMs', { commandTimeoutMs: 60_001 }],
    ['redis', { redis: undefined }],
    ['redis', { redis: null }],
    ['redis', { redis: 'redis://localhost' }],
    ['redis', { redis: {} }],
    ['redis', { redis: { options: null } }],
    ['redis.url', { redis: { url: 'http://localhost:6379' } }],
    ['redis.url', { redis: { url: 6379 } }],
    ['redis.client', { redis: { client: null } }],
    ['redis.client', { redis: { client: 'localhost' } }],
    ['cookie.secure', { cookie: { sameSite: 'none', secure: false } }],
    ['cookie.sameSite', { cookie: { sameSite: 'None' } }],
    ['cookie.sameSite', { cookie: { sameSite: 'always' } }],
    ['cookie.name', { cookie: { name: 'session id' } }],
    ['cookie.name', { cookie: { name: 'sid;' } }],
    ['cookie.name', { cookie: { name: 'a=b' } }],
    ['cookie.name', { cookie: { name: '' } }],
    ['headerName', { headerName: 'x session' }],
    ['headerName', { headerName: 'x_session' }],
    ['csrf.headerName', { csrf: { headerName: 'x:csrf' } }],
    ['resolveRoles', { resolveRoles: ['admin'] }],
  ])('%s: %j', (option, extra) => {
    const error = configError(extra);
    expect(error.option).toBe(option);
    expect(error.message).toContain(`"${option}"`);
    expect(error.code).toBe('SESSION_CONFIG');
  });

  it('names the cookie without the __Host- prefix when not Secure or when turned off', () => {
    expect(resolve({ cookie: { secure: false } }).cookie).toMatchObject({
      name: 'session_id',
      hostPrefix: false,
    });
    expect(resolve({ cookie: { hostPrefix: false, domain: 'example.com' } }).cookie).toMatchObject({
      name: 'session_id',
      secure: true,
      domain: 'example.com',
    });
    expect(resolve({ cookie: { name: '__Host-sid' } }).cookie.name).toBe('__Host-sid');
  });

  it.each([
    ['cookie.secure', { cookie: { hostPrefix: true, secure: false } }],
    ['cookie.path', { cookie: { path: '/app' } }],
    ['cookie.domain', { cookie: { domain: 'example.com' } }],
    ['cookie.secure', { cookie: { name: '__Host-sid', secure: false } }],
  ])('refuses %s that a __Host- cookie cannot have: %j', (option, extra) => {
    const error = configError(extra);
    expect(error.option).toBe(option);
    expect(error.message).toContain('__Host- cookie prefix');
    expect(error.message).toContain('cookie.hostPrefix');
  });

  it('mentions sameSite in the cookie.secure error', () => {
    expect(configError({ cookie: { sameSite: 'none', secure: false } }).message).toContain(
      'sameSite',
    );
  });

  it('shows the rejected value in the message', () => {
    expect(configError({ idleTtlSeconds: 1.5 }).message).toContain('1.5');
    expect(configError({ keyPrefix: 'a:b' }).message).toContain('"a:b"');
  });

  it('rejects a non-object options argument', () => {
    expect(() => resolveSessionOptions(null as unknown as SessionModuleOptions)).toThrow(
      SessionConfigError,
    );
    expect(() => resolveSessionOptions(null as unknown as SessionModuleOptions)).toThrow(
      /"options"/,
    );
  });
});
