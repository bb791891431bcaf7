import { type BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';

/** How long in-flight requests get to finish after SIGTERM before their sockets are cut. */
export const DRAIN_TIMEOUT_MS = 10_000;

/**
 * On shutdown (SIGTERM/SIGINT via enableShutdownHooks), stops accepting connections and lets
 * in-flight requests finish, before the shutdown hooks close the Redis client they still need.
 * Nest would close the server too, but without a bound: a request that never ends (a stalled
 * client) would hold the process until it is killed. Here it gets DRAIN_TIMEOUT_MS.
 */
@Injectable()
export class GracefulShutdown implements BeforeApplicationShutdown {
  private readonly logger = new Logger(GracefulShutdown.name);

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server?.listening) return;
    this.logger.log(`Shutting down${signal ? ` on ${signal}` : ''}: draining in-flight requests`);
    await new Promise<void>((resolve) => {
      const deadline = setTimeout(() => {
        this.logger.warn(
          `Requests still open after ${DRAIN_TIMEOUT_MS} ms: closing their connections`,
        );
        server.closeAllConnections();
      }, DRAIN_TIMEOUT_MS);
      // Node closes idle keep-alive connections at once and each busy one after its response.
      server.close(() => {
        clearTimeout(deadline);
        resolve();
      });
    });
  }
}
