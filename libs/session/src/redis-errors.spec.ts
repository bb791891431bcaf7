import { SessionStoreUnavailableError } from './errors';
import { guardStoreCall, toStoreError } from './redis-errors';

function replyError(message: string): Error {
  return Object.assign(new Error(message), { name: 'ReplyError' });
}

describe('toStoreError', () => {
  it('maps a plain Error (connection closed) to SessionStoreUnavailableError keeping the cause', () => {
    const cause = new Error('Connection is closed.');
    const mapped = toStoreError(cause);
    expect(mapped).toBeInstanceOf(SessionStoreUnavailableError);
    expect((mapped as SessionStoreUnavailableError).cause).toBe(cause);
    expect((mapped as SessionStoreUnavailableError).code).toBe('SESSION_STORE_UNAVAILABLE');
  });

  it('maps a command timeout and a retries-exhausted error to SessionStoreUnavailableError', () => {
    expect(toStoreError(new Error('Command timed out'))).toBeInstanceOf(
      SessionStoreUnavailableError,
    );
    const retries = Object.assign(new Error('Reached the max retries per request limit'), {
      name: 'MaxRetriesPerRequestError',
    });
    expect(toStoreError(retries)).toBeInstanceOf(SessionStoreUnavailableError);
  });

  it.each([
    'Too many Cluster redirections. Last error: ReplyError: MOVED 3821 127.0.0.1:28674',
    'Too many Cluster redirections. Last error: ReplyError: CLUSTERDOWN The cluster is down',
    'Too many Cluster redirections. Last error: Error: Connection is closed.',
  ])(
    'maps a Cluster client giving up during a fail-over (%j) to SessionStoreUnavailableError',
    (message) => {
      expect(toStoreError(new Error(message))).toBeInstanceOf(SessionStoreUnavailableError);
    },
  );

  it.each([
    'LOADING Redis is loading the dataset in memory',
    "READONLY You can't write against a read only replica.",
    'CLUSTERDOWN The cluster is down',
    'TRYAGAIN Multiple keys request during rehashing of slot',
    'MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no',
    'BUSY Redis is busy running a script.',
    'NOREPLICAS Not enough good replicas to write.',
    'MOVED 3999 127.0.0.1:6381',
    'ASK 3999 127.0.0.1:6381',
    "OOM command not allowed when used memory > 'maxmemory'.",
    "ERR Error running script (call to f_abc): @user_script:12: -OOM command not allowed when used memory > 'maxmemory'.",
  ])('maps the transient reply %j to SessionStoreUnavailableError', (message) => {
    const error = replyError(message);
    const mapped = toStoreError(error);
    expect(mapped).toBeInstanceOf(SessionStoreUnavailableError);
    expect((mapped as SessionStoreUnavailableError).cause).toBe(error);
  });

  it.each([
    'ERR syntax error',
    'WRONGTYPE Operation against a key holding the wrong kind of value',
    'NOSCRIPT No matching script. Please use EVAL.',
    'BUSYKEY Target key name already exists.',
    'BUSYGROUP Consumer Group name already exists',
    'ERR unknown command, with args beginning with: LOADING',
    'ERR value is not an integer: ROOM',
    'ERR Error running script: @user_script:3: attempt to compare nil with number',
  ])('returns the other reply %j unchanged', (message) => {
    const error = replyError(message);
    expect(toStoreError(error)).toBe(error);
  });

  it('returns a non-Error value unchanged', () => {
    const values = ['boom', 42, undefined, null, { message: 'LOADING' }];
    for (const value of values) expect(toStoreError(value)).toBe(value);
  });
});

describe('guardStoreCall', () => {
  it('resolves with the call result', async () => {
    await expect(guardStoreCall(async () => ['ok', 1])).resolves.toEqual(['ok', 1]);
  });

  it('rejects with SessionStoreUnavailableError when the connection fails', async () => {
    await expect(
      guardStoreCall(async () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
      }),
    ).rejects.toBeInstanceOf(SessionStoreUnavailableError);
  });

  it('rethrows a non-transient reply error as is', async () => {
    const error = replyError('ERR syntax error');
    await expect(
      guardStoreCall(async () => {
        throw error;
      }),
    ).rejects.toBe(error);
  });
});
