import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { AppProcess } from '../support/app-process';
import { eventually } from '../support/eventually';
import {
  deleteKeysWithPrefix,
  newRedisClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/test-redis';

jest.setTimeout(120_000);

/**
 * WebSocket gateways authenticated by the session library, across two real instances: a client
 * logs in on A and connects to B; B's gateway knows who it is, enforces @Roles per message, and
 * closes the connection the moment the session is revoked through A. Both Nest adapters.
 */
describe.each(['socket.io', 'ws'] as const)('WebSocket gateway on %s, two instances', (adapter) => {
  const prefix = uniquePrefix(`ws-${adapter.replace('.', '')}`);
  let a: AppProcess;
  let b: AppProcess;

  beforeAll(async () => {
    const env = { REDIS_URL: testRedisUrl(), SESSION_PREFIX: prefix, WS_ADAPTER: adapter };
    [a, b] = await Promise.all([
      AppProcess.start('gateway', `ws-a-${adapter}`, env),
      AppProcess.start('gateway', `ws-b-${adapter}`, env),
    ]);
  });
  afterAll(async () => {
    await Promise.all([a.stop(), b.stop()]);
    const redis = newRedisClient();
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  });

  const http = (p: AppProcess, path: string, init: RequestInit = {}) =>
    fetch(`http://127.0.0.1:${p.port}${path}`, init);

  async function login(userId: string, roles: string[] = ['user']): Promise<string> {
    const response = await http(a, '/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId, roles }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { token: string }).token;
  }

  /** A connected client on B, with a promise of how its connection ended. */
  interface Client {
    ask(event: string): Promise<unknown>;
    closed: Promise<{ at: number; reason: string }>;
    close(): void;
  }

  function connect(headers: Record<string, string>, token?: string): Promise<Client> {
    return adapter === 'socket.io' ? connectIo(headers, token) : connectWs(headers, token);
  }

  function connectIo(headers: Record<string, string>, token?: string): Promise<Client> {
    const socket: Socket = io(`http://127.0.0.1:${b.port}`, {
      transports: ['websocket'],
      extraHeaders: headers,
      auth: token ? { token } : {},
      reconnection: false,
      // One connection per client: socket.io-client would otherwise share one per URL.
      forceNew: true,
    });
    let reason = '';
    socket.on('session_ended', (payload: { reason: string }) => (reason = payload.reason));
    const closed = new Promise<{ at: number; reason: string }>((resolve) =>
      socket.on('disconnect', (why) => resolve({ at: Date.now(), reason: reason || why })),
    );
    const client: Client = {
      ask: (event) =>
        new Promise((resolve) => {
          // A handler's `{ event, data }` answer comes back as that event; a refusal as `exception`.
          socket.once('exception', (error: unknown) => resolve({ error }));
          socket.once(event, (answer: unknown) => resolve(answer));
          socket.emit(event, {});
        }),
      closed,
      close: () => socket.close(),
    };
    return new Promise((resolve) => {
      socket.on('connect', () => setTimeout(() => resolve(client), 100));
      socket.on('connect_error', () => resolve(client));
    });
  }

  function connectWs(headers: Record<string, string>, token?: string): Promise<Client> {
    const socket = new WebSocket(`ws://127.0.0.1:${b.port}/ws`, {
      headers: token ? { ...headers, authorization: `Bearer ${token}` } : headers,
    });
    const closed = new Promise<{ at: number; reason: string }>((resolve) =>
      socket.on('close', (code, why) =>
        resolve({ at: Date.now(), reason: `${code} ${why.toString()}` }),
      ),
    );
    const client: Client = {
      ask: (event) =>
        new Promise((resolve) => {
          socket.once('message', (raw: Buffer) =>
            resolve(JSON.parse(raw.toString('utf8')) as unknown),
          );
          socket.send(JSON.stringify({ event, data: {} }));
        }),
      closed,
      close: () => socket.close(),
    };
    return new Promise((resolve) => {
      socket.on('open', () => setTimeout(() => resolve(client), 100));
      socket.on('error', () => resolve(client));
    });
  }

  const answerOf = (reply: unknown) =>
    adapter === 'socket.io' ? reply : ((reply as { data?: unknown }).data ?? reply);

  it('knows the user of a connection authenticated on the other instance', async () => {
    const token = await login('alice');
    const client = await connect({}, token);
    expect(answerOf(await client.ask('whoami'))).toBe('alice');
    client.close();
  });

  it('applies @Roles to messages', async () => {
    const user = await connect({}, await login('bob', ['user']));
    const admin = await connect({}, await login('root', ['admin']));
    expect(answerOf(await admin.ask('admin'))).toBe('ok');
    if (adapter === 'socket.io') {
      expect(JSON.stringify(await user.ask('admin'))).toMatch(/Forbidden: insufficient role/);
    } else {
      // Nest's ws adapter sends no frame for a refused message: no answer is the refusal.
      const answer = await Promise.race([
        user.ask('admin'),
        new Promise((resolve) => setTimeout(() => resolve('no answer'), 1000)),
      ]);
      expect(answer).toBe('no answer');
    }
    user.close();
    admin.close();
  });

  it('closes a connection without a valid session at once', async () => {
    const anonymous = await connect({});
    expect((await anonymous.closed).reason).toMatch(/no session|4401/);
    const forged = await connect({}, 'not-a-token');
    expect((await forged.closed).reason).toMatch(/invalid session|4401/);
  });

  it('refuses a cookie-authenticated handshake from another site (cross-site WebSocket hijacking)', async () => {
    const token = await login('carol');
    const cookie = `session_id=${token}`;
    const crossSite = await connect({ cookie, origin: 'https://evil.example' });
    expect((await crossSite.closed).reason).toMatch(/cross-site|4401/);
    const allowed = await connect({ cookie, origin: 'https://app.example.com' });
    expect(answerOf(await allowed.ask('whoami'))).toBe('carol');
    allowed.close();
  });

  it('logout on A closes the connection held on B within milliseconds', async () => {
    const token = await login('dave');
    const client = await connect({}, token);
    expect(answerOf(await client.ask('whoami'))).toBe('dave');
    const started = Date.now();
    const logout = await http(a, '/logout', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(logout.status).toBe(201);
    const ended = await eventually(
      () => Promise.race([client.closed, new Promise<null>((r) => setTimeout(() => r(null), 50))]),
      (value) => value !== null,
    );
    console.log(
      `${adapter}: logout on A → connection on B closed after ${ended!.at - started} ms (${ended!.reason})`,
    );
    expect(ended!.reason).toMatch(/session revoked|4401/);
  });
});
