import { Controller, UseFilters } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { parseSessionEvent, UnsupportedEventError } from '@app/session';
import type { RedisStreamsContext } from '@app/streams';
import { entryIdTime, RedisClock } from '../health/redis-clock';
import { WorkerMetrics } from '../health/worker-metrics';
import { ProjectionErrorFilter } from './projection-error.filter';
import { SessionProjections } from './session-projections';

/**
 * Applies the session lifecycle events to the projections. Every handler is idempotent (the
 * transport delivers at least once) and events of one user arrive in order (ordering key).
 * An event this release cannot read (malformed, an unknown version) is dead-lettered at once
 * (ProjectionErrorFilter marks it permanent), as is an unknown event type (no handler): both wait
 * there for a release that reads them (`worker:dead-letters replay`). Other errors are retried.
 */
@Controller()
@UseFilters(ProjectionErrorFilter)
export class SessionEventsController {
  constructor(
    private readonly projections: SessionProjections,
    private readonly metrics: WorkerMetrics,
    private readonly clock: RedisClock,
  ) {}

  @EventPattern('session.created')
  created(@Payload() data: unknown, @Ctx() context: RedisStreamsContext): Promise<void> {
    return this.apply(data, context);
  }

  @EventPattern('session.rotated')
  rotated(@Payload() data: unknown, @Ctx() context: RedisStreamsContext): Promise<void> {
    return this.apply(data, context);
  }

  @EventPattern('session.revoked')
  revoked(@Payload() data: unknown, @Ctx() context: RedisStreamsContext): Promise<void> {
    return this.apply(data, context);
  }

  @EventPattern('session.expired')
  expired(@Payload() data: unknown, @Ctx() context: RedisStreamsContext): Promise<void> {
    return this.apply(data, context);
  }

  @EventPattern('user.revoked')
  userRevoked(@Payload() data: unknown, @Ctx() context: RedisStreamsContext): Promise<void> {
    return this.apply(data, context);
  }

  @EventPattern('session.updated')
  updated(@Payload() data: unknown, @Ctx() context: RedisStreamsContext): Promise<void> {
    // No projection depends on session data; parsed so a bad event is still caught.
    return this.apply(data, context);
  }

  private async apply(data: unknown, context: RedisStreamsContext): Promise<void> {
    const event = parseSessionEvent(data, { pattern: context.getPattern(), id: context.getId() });
    if (event.type !== context.getPattern()) {
      throw new UnsupportedEventError(
        `Event type ${event.type} does not match its pattern ${context.getPattern()}`,
      );
    }
    await this.projections.apply(event);
    const entryTime = entryIdTime(context.getId());
    this.metrics.applied(event, context.getPartition(), entryTime, this.clock.now());
  }
}
