import { Controller, UseFilters } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  parseSessionEvent,
  type SessionCreatedEvent,
  type SessionEvent,
  type SessionExpiredEvent,
  SessionIndex,
  type SessionRevokedEvent,
  type SessionRotatedEvent,
  type UserRevokedEvent,
} from '@app/session';
import type { RedisStreamsContext } from '@app/streams';
import { WorkerMetrics } from '../health/worker-metrics';
import { ProjectionErrorFilter } from './projection-error.filter';
import { SessionLimitService } from './session-limit.service';

/**
 * Applies the session lifecycle events to the projections. Every handler is idempotent (the
 * transport delivers at least once) and events of one user arrive in order (ordering key).
 * A malformed or unknown-version event throws: it is retried, then dead-lettered.
 */
@Controller()
@UseFilters(ProjectionErrorFilter)
export class SessionEventsController {
  constructor(
    private readonly index: SessionIndex,
    private readonly limits: SessionLimitService,
    private readonly metrics: WorkerMetrics,
  ) {}

  @EventPattern('session.created')
  async created(@Payload() data: unknown, @Ctx() context: RedisStreamsContext): Promise<void> {
    const event = this.parse<SessionCreatedEvent>(data, context);
    if (await this.index.indexSession(event.sessionId, event.userId))
      await this.limits.enforce(event.userId);
    this.metrics.applied(event);
  }

  @EventPattern('session.rotated')
  async rotated(@Payload() data: unknown, @Ctx() context: RedisStreamsContext): Promise<void> {
    const event = this.parse<SessionRotatedEvent>(data, context);
    await this.index.indexSession(event.sessionId, event.userId, event.previousSessionId);
    this.metrics.applied(event);
  }

  @EventPattern('session.revoked')
  async revoked(@Payload() data: unknown, @Ctx() context: RedisStreamsContext): Promise<void> {
    const event = this.parse<SessionRevokedEvent>(data, context);
    await this.index.unindexSession(event.sessionId, event.userId);
    this.metrics.applied(event);
  }

  @EventPattern('session.expired')
  async expired(@Payload() data: unknown, @Ctx() context: RedisStreamsContext): Promise<void> {
    const event = this.parse<SessionExpiredEvent>(data, context);
    await this.index.unindexSession(event.sessionId, event.userId);
    this.metrics.applied(event);
  }

  @EventPattern('user.revoked')
  async userRevoked(@Payload() data: unknown, @Ctx() context: RedisStreamsContext): Promise<void> {
    const event = this.parse<UserRevokedEvent>(data, context);
    await this.index.purgeRevokedSessions(event.userId, event.revokedBefore, event.exceptSessionId);
    this.metrics.applied(event);
  }

  @EventPattern('session.updated')
  updated(@Payload() data: unknown, @Ctx() context: RedisStreamsContext): void {
    // No projection depends on session data; parsed so a bad event is still caught.
    this.metrics.applied(this.parse(data, context));
  }

  private parse<T extends SessionEvent>(data: unknown, context: RedisStreamsContext): T {
    const event = parseSessionEvent(data);
    if (event.type !== context.getPattern()) {
      throw new Error(
        `Event type ${event.type} does not match its pattern ${context.getPattern()}`,
      );
    }
    return event as T;
  }
}
