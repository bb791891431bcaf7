/**
 * One app instance as its own process for the revocation scenario, driven over IPC like
 * test/multi-instance/fixtures/session-instance.ts. An armed token is validated again the moment
 * its revocation notice arrives, and the wall time of that rejection is recorded: the first moment
 * this instance answers "invalid" for it.
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import type { SessionModuleOptions } from '@app/session';
import { ourSessions } from './our-sessions';

interface Command {
  id: number;
  op: string;
  args: unknown[];
}

interface Outcome {
  receivedAt: number;
  rejectedAt: number | null;
}

const wallNow = (): number => performance.timeOrigin + performance.now();

async function main(): Promise<void> {
  const options = JSON.parse(process.env.SESSION_INSTANCE_OPTIONS ?? '{}') as SessionModuleOptions;
  const url = (options.redis as { url: string }).url;
  const { service, close } = await ourSessions(url, { cache: true, keyPrefix: options.keyPrefix });
  const armed = new Map<string, string>();
  const outcomes = new Map<string, Outcome>();
  service.revocations$.subscribe((notice) => {
    if (notice.kind !== 'session') return;
    const token = armed.get(notice.sessionId);
    if (!token) return;
    const outcome: Outcome = { receivedAt: wallNow(), rejectedAt: null };
    outcomes.set(notice.sessionId, outcome);
    void service.verify(token).then((result) => {
      if (!result.valid) outcome.rejectedAt = wallNow();
    });
  });

  const ops: Record<string, (...args: never[]) => unknown> = {
    create: (userId: string) => service.create(userId),
    /** Validates every token (fills the L1 cache); answers how many were valid. */
    validate: async (tokens: string[]) => {
      let valid = 0;
      for (const token of tokens) if ((await service.verify(token)).valid) valid++;
      return valid;
    },
    arm: (pairs: [string, string][]) => pairs.forEach(([id, token]) => armed.set(id, token)),
    revoke: async (sessionId: string) => {
      const startedAt = wallNow();
      await service.revoke(sessionId);
      return { startedAt, returnedAt: wallNow() };
    },
    revokeAllForUser: (userId: string) => service.revokeAllForUser(userId),
    outcomes: (ids: string[]) => ids.map((id) => outcomes.get(id) ?? null),
    hits: () => service.stats(),
  };

  process.on('message', (command: Command) => {
    const op = ops[command.op] as (...args: unknown[]) => unknown;
    Promise.resolve()
      .then(() => op(...command.args))
      .then(
        (value) => process.send?.({ id: command.id, ok: true, value }),
        (error: Error) => process.send?.({ id: command.id, ok: false, error: error.message }),
      );
  });
  process.on('disconnect', () => void close().then(() => process.exit(0)));
  process.send?.({ id: 0, ok: true, value: 'ready' });
}

void main();
