import type { ConsumerDeserializer, MessageHandler, MsPattern } from '@nestjs/microservices';
import { lastValueFrom, type Observable } from 'rxjs';
import type { RedisStreamsContext } from './redis-streams.context';
import type { HandlerHost, HandlerOutcome } from './redis-streams.processor';

/** What of Nest's `Server` a {@link HandlerHost} needs (protected there, so handed over). */
export interface NestServerHooks {
  deserializer: ConsumerDeserializer;
  normalizePattern(pattern: MsPattern): string;
  getHandlerByPattern(pattern: string): MessageHandler | null;
  transformToObservable(result: unknown): Observable<unknown>;
  /** Nest's `onProcessingStartHook` for this transport: calls `done` to run the handler. */
  onProcessingStart(ctx: RedisStreamsContext, done: () => Promise<void>): unknown;
  onProcessingEnd(ctx: RedisStreamsContext): void;
}

/** Nest's deserializer, handler lookup and processing hooks, as the EntryProcessor uses them. */
export function createHandlerHost(server: NestServerHooks): HandlerHost {
  return {
    deserialize: async (rawPattern, rawData, stream) => {
      const packet = await server.deserializer.deserialize(
        { pattern: rawPattern, data: rawData },
        { channel: stream },
      );
      const pattern =
        typeof packet.pattern === 'string'
          ? packet.pattern
          : server.normalizePattern(packet.pattern as MsPattern);
      return { pattern, data: packet.data };
    },
    handlerFor: (pattern) => server.getHandlerByPattern(pattern),
    invoke: (handler, data, ctx) => invokeHandler(server, handler, data, ctx),
  };
}

/**
 * Runs a handler through Nest's processing hooks; settles when its result (value, Promise or
 * Observable) has completed, with the handler's error if any (Nest hands over exceptions as
 * `{ status, message }` objects, not Errors).
 */
export function invokeHandler(
  server: NestServerHooks,
  handler: MessageHandler,
  data: unknown,
  ctx: RedisStreamsContext,
): Promise<HandlerOutcome> {
  return new Promise<HandlerOutcome>((resolve) => {
    const done = async (): Promise<void> => {
      try {
        const result: unknown = await handler(data, ctx);
        await lastValueFrom(server.transformToObservable(result), { defaultValue: undefined });
        resolve({ ok: true });
      } catch (error) {
        resolve({ ok: false, error });
      } finally {
        server.onProcessingEnd(ctx);
      }
    };
    try {
      const hooked = server.onProcessingStart(ctx, done);
      if (hooked instanceof Promise) {
        hooked.catch((error: unknown) => resolve({ ok: false, error }));
      }
    } catch (error) {
      resolve({ ok: false, error });
    }
  });
}
