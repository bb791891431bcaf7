import type { MessageHandler } from '@nestjs/microservices';
import { RedisStreamsServer } from './server-redis-streams';

describe('RedisStreamsServer.getHandlerByPattern', () => {
  const server = new RedisStreamsServer({
    connection: { host: '127.0.0.1', port: 6379, lazyConnect: true },
    streams: ['s'],
    group: 'g',
    consumer: 'c',
  });
  const byString = (async () => undefined) as unknown as MessageHandler;
  const byObject = (async () => undefined) as unknown as MessageHandler;
  server.addHandler('session.created', byString, true);
  server.addHandler({ cmd: 'sum', v: 1 }, byObject, true);

  it('finds a plain string pattern without parsing it', () => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      expect(server.getHandlerByPattern('session.created')).toBe(byString);
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
  });

  it('still finds an object pattern whatever the order of its keys, as Nest does', () => {
    expect(server.getHandlerByPattern('{"cmd":"sum","v":1}')).toBe(byObject);
    expect(server.getHandlerByPattern('{"v":1,"cmd":"sum"}')).toBe(byObject);
  });

  it('answers null for an unknown pattern', () => {
    expect(server.getHandlerByPattern('session.unknown')).toBeNull();
    expect(server.getHandlerByPattern('{"cmd":"other"}')).toBeNull();
  });
});

describe('RedisStreamsServer.listen', () => {
  it('refuses a second listen(), even one made before the first has connected', async () => {
    const server = new RedisStreamsServer({
      connection: 'redis://127.0.0.1:1', // refused: the first listen() fails too
      retryAttempts: 0,
      streams: ['s'],
      group: 'g',
      consumer: 'c',
    });
    const listen = () => new Promise<unknown>((resolve) => server.listen(resolve));
    const [first, second] = await Promise.all([listen(), listen()]);
    expect(second).toMatchObject({ message: expect.stringMatching(/already called/) });
    expect(first).toBeInstanceOf(Error);
    expect(first).not.toBe(second);
    await server.close();
  });
});
