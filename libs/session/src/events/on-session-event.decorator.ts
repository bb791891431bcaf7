import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { UnsupportedEventError } from '../errors';
import { parseSessionEvent, type SessionEventOf, type SessionEventType } from '../session-events';

/** What a handler gets as its second argument (structurally `RedisStreamsContext`). */
export interface SessionEventContext {
  /** The event type (the entry's `pattern` field). */
  getPattern(): string;
  /** The stream entry id (`<ms>-<seq>`). */
  getId(): string;
  /** The partition stream the event was read from. */
  getStream(): string;
  /** Deliveries of this entry so far, this one included. */
  getDeliveryCount(): number;
}

type SessionEventHandler<T extends SessionEventType> = (
  event: SessionEventOf<T>,
  context: SessionEventContext,
) => unknown;

/**
 * Marks a microservice handler of one session lifecycle event type. The handler gets the event
 * parsed and checked (`parseSessionEvent`: the long form whatever the storage format, typed by
 * `type`) and the transport's context. An event that does not parse throws, so it is retried
 * and then dead-lettered like a failing handler.
 *
 *   @OnSessionEvent('session.revoked')
 *   onRevoked(event: SessionRevokedEvent, context: SessionEventContext) { ... }
 */
export function OnSessionEvent<T extends SessionEventType>(type: T) {
  return <H extends SessionEventHandler<T>>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<H>,
  ): void => {
    const handler = descriptor.value;
    if (typeof handler !== 'function') throw new TypeError('@OnSessionEvent() decorates methods');
    const parsing = function (this: unknown, data: unknown, context: SessionEventContext) {
      const event = parseSessionEvent(data, { pattern: context.getPattern(), id: context.getId() });
      if (event.type !== type)
        throw new UnsupportedEventError(`Event ${event.type} arrived at the ${type} handler`);
      return handler.call(this, event as unknown as SessionEventOf<T>, context);
    };
    // Metadata other decorators put on the method (filters, interceptors) follows it.
    for (const metadataKey of Reflect.getMetadataKeys(handler) as unknown[])
      Reflect.defineMetadata(metadataKey, Reflect.getMetadata(metadataKey, handler), parsing);
    Object.defineProperty(parsing, 'name', { value: handler.name });
    descriptor.value = parsing as unknown as H;
    EventPattern(type)(target, key, descriptor);
    // Nest passes only the payload unless told: the raw payload first, the context second.
    Payload()(target, key, 0);
    Ctx()(target, key, 1);
  };
}
