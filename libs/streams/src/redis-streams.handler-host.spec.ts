import type { MessageHandler } from '@nestjs/microservices';
import { isObservable, of, throwError, type Observable } from 'rxjs';
import { RedisStreamsContext } from './redis-streams.context';
import { createHandlerHost, type NestServerHooks } from './redis-streams.handler-host';

function hooks(overrides: Partial<NestServerHooks> = {}): NestServerHooks & { ended: number } {
  const h = {
    ended: 0,
    deserializer: { deserialize: (packet: unknown) => packet },
    normalizePattern: (p: unknown) => JSON.stringify(p),
    getHandlerByPattern: () => null,
    transformToObservable: (r: unknown): Observable<unknown> => (isObservable(r) ? r : of(r)),
    onProcessingStart: (_ctx: RedisStreamsContext, done: () => Promise<void>) => done(),
    onProcessingEnd: () => {
      h.ended++;
    },
    ...overrides,
  } as NestServerHooks & { ended: number };
  return h;
}

const ctx = new RedisStreamsContext(['s', '1-0', 1, 0, 'g', 'c', 'e']);
const handler = (fn: (data: unknown) => unknown) => fn as unknown as MessageHandler;

describe('createHandlerHost', () => {
  it('settles ok once an Observable result completed, and runs the end hook', async () => {
    const h = hooks();
    const outcome = await createHandlerHost(h).invoke(
      handler(() => of(1, 2)),
      {},
      ctx,
    );
    expect(outcome).toEqual({ ok: true });
    expect(h.ended).toBe(1);
  });

  it('reports a thrown error, a rejected Promise and an erroring Observable as failures', async () => {
    const host = createHandlerHost(hooks());
    const boom = new Error('boom');
    const results = await Promise.all([
      host.invoke(
        handler(() => {
          throw boom;
        }),
        {},
        ctx,
      ),
      host.invoke(
        handler(async () => Promise.reject(boom)),
        {},
        ctx,
      ),
      host.invoke(
        handler(() => throwError(() => boom)),
        {},
        ctx,
      ),
    ]);
    expect(results).toEqual([0, 1, 2].map(() => ({ ok: false, error: boom })));
  });

  it('reports a processing hook that throws as a failure, without running the handler', async () => {
    const run = jest.fn();
    const host = createHandlerHost(
      hooks({
        onProcessingStart: () => {
          throw new Error('hook');
        },
      }),
    );
    const outcome = await host.invoke(handler(run), {}, ctx);
    expect(outcome).toMatchObject({ ok: false });
    expect(run).not.toHaveBeenCalled();
  });

  it('normalizes an object pattern as Nest does', async () => {
    const host = createHandlerHost(hooks());
    expect(await host.deserialize('{"cmd":"x"}', { n: 1 }, 's')).toEqual({
      pattern: '{"cmd":"x"}',
      data: { n: 1 },
    });
  });
});
