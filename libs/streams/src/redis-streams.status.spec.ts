import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { RedisStreamsStatus } from './redis-streams.events';
import { StatusBoard } from './redis-streams.status';

const logger = { log: jest.fn(), error: jest.fn(), warn: jest.fn() };

function board(closed = () => false): { board: StatusBoard; seen: RedisStreamsStatus[] } {
  const seen: RedisStreamsStatus[] = [];
  return { board: new StatusBoard((s) => seen.push(s), closed), seen };
}

describe('StatusBoard', () => {
  it('reports connected only once every member is ready', () => {
    const { board: b, seen } = board();
    b.set('reader', 'connecting');
    b.set('commands', 'ready');
    expect(seen).toEqual([]);
    b.set('reader', 'ready');
    expect(seen).toEqual([RedisStreamsStatus.CONNECTED]);
  });

  it('reports changes only: repeated reconnect attempts make one reconnecting', () => {
    const { board: b, seen } = board();
    b.set('a', 'ready');
    b.set('a', 'reconnecting');
    b.set('a', 'reconnecting');
    b.set('a', 'ready');
    expect(seen).toEqual([
      RedisStreamsStatus.CONNECTED,
      RedisStreamsStatus.RECONNECTING,
      RedisStreamsStatus.CONNECTED,
    ]);
  });

  it('reports disconnected when one member gave up, whatever the others do', () => {
    const { board: b, seen } = board();
    b.set('a', 'ready');
    b.set('b', 'end');
    b.set('a', 'reconnecting');
    expect(seen).toEqual([RedisStreamsStatus.CONNECTED, RedisStreamsStatus.DISCONNECTED]);
  });

  it('reports nothing once its owner was closed', () => {
    let closed = false;
    const { board: b, seen } = board(() => closed);
    b.set('a', 'ready');
    closed = true;
    b.set('a', 'end');
    expect(seen).toEqual([RedisStreamsStatus.CONNECTED]);
  });

  it('track() follows a client through its ioredis events', () => {
    const { board: b, seen } = board();
    const client = new EventEmitter();
    b.track('producer', client as unknown as Redis, logger);
    client.emit('ready');
    client.emit('reconnecting');
    client.emit('reconnecting');
    client.emit('ready');
    client.emit('end');
    expect(seen).toEqual([
      RedisStreamsStatus.CONNECTED,
      RedisStreamsStatus.RECONNECTING,
      RedisStreamsStatus.CONNECTED,
      RedisStreamsStatus.DISCONNECTED,
    ]);
    expect(logger.log).toHaveBeenCalledWith('Reconnecting to Redis (producer)...');
  });
});
