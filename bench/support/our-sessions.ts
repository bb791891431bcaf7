import { Test } from '@nestjs/testing';
import { SessionModule, SessionService } from '@app/session';
import { sleep } from './format';

export interface OurSessions {
  service: SessionService;
  close(): Promise<void>;
}

/** The library as an app would use it (SessionModule.forRoot), in this process. */
export async function ourSessions(
  url: string,
  options: { cache: boolean; keyPrefix?: string; pipelining?: boolean },
): Promise<OurSessions> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      SessionModule.forRoot({
        redis: { url, options: { enableAutoPipelining: options.pipelining ?? false } },
        keyPrefix: options.keyPrefix ?? 'sess',
        cache: { enabled: options.cache },
      }),
    ],
  }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  const service = moduleRef.get(SessionService);
  // L1 serves hits only once the invalidation subscriber is confirmed.
  while (options.cache && !service.invalidationsConnected) await sleep(10);
  return { service, close: () => moduleRef.close() };
}
