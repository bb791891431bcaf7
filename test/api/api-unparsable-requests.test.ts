import { connect } from 'node:net';
import { type ApiFixture, createApiFixture } from './api-fixture';

/**
 * Requests Node's HTTP parser refuses before the app sees them (headers over 16 KiB, broken
 * syntax) get a bare status line and an empty body, as Node answers them on Express: a HEAD
 * client does not read a body, so any body bytes would be taken for the next response.
 */
describe('api: requests the HTTP parser refuses', () => {
  let fx: ApiFixture;
  beforeAll(async () => {
    fx = await createApiFixture('unparsable');
  });
  afterAll(async () => fx?.close());

  /**
   * Writes `requests` one by one on one connection, each once the previous one is answered, and
   * returns everything the server sent until it closed.
   */
  function exchange(requests: string[]): Promise<string> {
    const { port } = new URL(fx.url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1');
      const chunks: Buffer[] = [];
      let next = 0;
      const sendNext = () => socket.write(requests[next++]);
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        // A /ping answer ends with its JSON body: the next request goes on the same connection.
        if (next < requests.length && chunk.toString('latin1').endsWith('}')) sendNext();
      });
      socket.on('error', (error) => (chunks.length ? undefined : reject(error)));
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
      sendNext();
    });
  }

  const oversized = (method: string) =>
    `${method} /auth/me HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`;

  it('answers oversized headers 431 with an empty body, HEAD included', async () => {
    for (const method of ['GET', 'HEAD']) {
      const answer = await exchange([oversized(method)]);
      expect(answer).toMatch(/^HTTP\/1\.1 431 /);
      expect(answer.split('\r\n\r\n')[1]).toBe('');
    }
  });

  it('answers a refused request that follows answered ones on a keep-alive connection', async () => {
    const answer = await exchange([
      'GET /ping HTTP/1.1\r\nhost: x\r\n\r\n',
      'GET /ping HTTP/1.1\r\nhost: x\r\n\r\n',
      oversized('GET'),
    ]);
    const statuses = [...answer.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => match[1]);
    expect(statuses).toEqual(['200', '200', '431']);
  });

  it('answers broken syntax 400 and keeps serving', async () => {
    const answer = await exchange(['GET /ping HTTP/9.9\r\nhost: x\r\n\r\n']);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect((await fetch(`${fx.url}/ping`)).status).toBe(200);
  });
});
