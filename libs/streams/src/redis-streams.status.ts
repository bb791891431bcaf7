import type { LoggerService } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { LogThrottle } from '@app/config';
import { RedisStreamsStatus } from './redis-streams.events';

export type MemberState = 'connecting' | 'ready' | 'reconnecting' | 'end';

/**
 * One status over a set of connections, like Nest's Redis transports report it: 'connected' once
 * every member is ready, 'reconnecting' while one is down, 'disconnected' when one gave up.
 * Members may come and go (cluster mode: one reader per slot, replaced as slots move). Reports
 * changes only, and nothing once the owner was closed on purpose.
 */
export class StatusBoard {
  private readonly states = new Map<string, MemberState>();
  private last: RedisStreamsStatus | undefined;
  /** While Redis is down every attempt fails: one line per 10 s per member, with a count. */
  private readonly throttle = new LogThrottle();

  constructor(
    private readonly emit: (status: RedisStreamsStatus) => void,
    private readonly isClosed: () => boolean,
  ) {}

  set(member: string, state: MemberState): void {
    this.states.set(member, state);
    if (this.isClosed()) return;
    const all = [...this.states.values()];
    let next: RedisStreamsStatus;
    if (all.includes('end')) next = RedisStreamsStatus.DISCONNECTED;
    else if (all.every((s) => s === 'ready')) next = RedisStreamsStatus.CONNECTED;
    else if (all.includes('reconnecting')) next = RedisStreamsStatus.RECONNECTING;
    else return;
    if (next === this.last) return;
    this.last = next;
    this.emit(next);
  }

  /** Follows a client that reconnects by itself, logging its transitions under `member`. */
  track(member: string, client: Redis | Cluster, logger: LoggerService): void {
    let wasConnected = false;
    this.set(member, 'connecting');
    client.on('error', (err: Error) => {
      if (this.isClosed()) return;
      const line = this.throttle.line(`${member} error`, `Redis (${member}): ${err.message}`);
      if (line) logger.error(line);
    });
    client.on('reconnecting', () => {
      if (this.isClosed()) return;
      const line = this.throttle.line(
        `${member} reconnecting`,
        `Reconnecting to Redis (${member})...`,
      );
      if (wasConnected && line) logger.log(line);
      this.set(member, 'reconnecting');
    });
    client.on('ready', () => {
      wasConnected = true;
      this.throttle.reset(`${member} error`);
      this.throttle.reset(`${member} reconnecting`);
      logger.log(`Connected to Redis (${member}).`);
      this.set(member, 'ready');
    });
    client.on('end', () => {
      if (this.isClosed()) return;
      logger.error(
        `Disconnected from Redis (${member}). No further reconnection attempts will be made.`,
      );
      this.set(member, 'end');
    });
  }
}
