import { type BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import type { RedisStreamsServer } from '@app/streams';
import { WORKER_STREAMS_SERVER } from './worker.constants';

/**
 * Stops the consumer (stop reading, let running handlers finish within the bound) before Nest
 * closes the HTTP server, which it would otherwise do first: during the drain /health/ready keeps
 * answering 503 "shutting down" and /metrics stays readable. Nest's own close of the consumer
 * later finds it closed (RedisStreamsServer.close() is idempotent).
 */
@Injectable()
export class ConsumerShutdown implements BeforeApplicationShutdown {
  constructor(@Inject(WORKER_STREAMS_SERVER) private readonly server: RedisStreamsServer) {}

  async beforeApplicationShutdown(): Promise<void> {
    await this.server.close();
  }
}
