/**
 * Which connection an event came from. The server has a dedicated blocking `reader` (XREADGROUP
 * only; on Redis Cluster one per hash slot, all reported as `reader`) and a `commands` connection
 * (XACK, XAUTOCLAIM, XADD to the dead-letter stream, ...; a Cluster client on Redis Cluster); the
 * client has one `producer` connection.
 */
export type RedisStreamsConnectionRole = 'reader' | 'commands' | 'producer';

type VoidCallback = (role: RedisStreamsConnectionRole) => void;
type OnErrorCallback = (role: RedisStreamsConnectionRole, error: Error) => void;
type OnWarningCallback = (role: RedisStreamsConnectionRole, warning: unknown) => void;

/** Status of a Redis Streams server or client, as `status` (an Observable) reports it. */
export enum RedisStreamsStatus {
  DISCONNECTED = 'disconnected',
  RECONNECTING = 'reconnecting',
  CONNECTED = 'connected',
}

/** ioredis connection events; the names `on(event, callback)` accepts. */
export enum RedisStreamsEventsMap {
  CONNECT = 'connect',
  READY = 'ready',
  ERROR = 'error',
  CLOSE = 'close',
  RECONNECTING = 'reconnecting',
  END = 'end',
  WARNING = 'warning',
}

/**
 * Redis Streams events map: event name → callback, like Nest's `RedisEvents`, with the
 * connection's role instead of 'pub' | 'sub' as first argument.
 */
export type RedisStreamsEvents = {
  connect: VoidCallback;
  ready: VoidCallback;
  error: OnErrorCallback;
  close: VoidCallback;
  reconnecting: VoidCallback;
  end: VoidCallback;
  warning: OnWarningCallback;
};
