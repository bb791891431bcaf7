import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import { API_CONFIG } from '../api.constants';
import type { ApiConfig } from '../config';

/** In-flight requests get this share of the shutdown bound; the rest closes connections. */
const DRAIN_SHARE = 0.75;

/**
 * On shutdown (SIGTERM/SIGINT via enableShutdownHooks), stops accepting connections and lets
 * in-flight requests finish, before the shutdown hooks close the Redis client they still need.
 * Nest would close the server too, but without a bound: a request that never ends (a stalled
 * client) would hold the process until it is killed. Here it gets most of SHUTDOWN_TIMEOUT_MS.
 */
@Injectable()
export class GracefulShutdown implements BeforeApplicationShutdown {
  private readonly logger = new Logger(GracefulShutdown.name);

  private readonly drainTimeoutMs: number;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(API_CONFIG) config: ApiConfig,
  ) {
    // SHUTDOWN_DELAY_MS (ProcessLiveness) has already been spent when this runs.
    this.drainTimeoutMs = Math.floor(
      (config.shutdownTimeoutMs - config.shutdownDelayMs) * DRAIN_SHARE,
    );
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server?.listening) return;
    this.logger.log(`Shutting down${signal ? ` on ${signal}` : ''}: draining in-flight requests`);
    await new Promise<void>((resolve) => {
      const deadline = setTimeout(() => {
        this.logger.warn(
          `Requests still open after ${this.drainTimeoutMs} ms: closing their connections`,
        );
        server.closeAllConnections();
      }, this.drainTimeoutMs);
      // Node closes idle keep-alive connections at once and each busy one after its response.
      server.close(() => {
        clearTimeout(deadline);
        resolve();
      });
    });
  }
}
