import { PROJECTIONS_GROUP } from '../../apps/worker/src/worker.constants';
import type { SessionFixture } from '../session/session-fixture';

export interface GroupBacklog {
  /** Entries read but not yet acknowledged. */
  pending: number;
  /** Entries not yet read by the group. */
  lag: number;
}

/** Pending + lag of the projection group over every partition stream (XINFO GROUPS). */
export async function groupBacklog(fx: SessionFixture): Promise<GroupBacklog> {
  const total = { pending: 0, lag: 0 };
  for (const stream of fx.service.keys.allEventStreams()) {
    const groups = (await fx.redis.xinfo('GROUPS', stream)) as unknown[][];
    for (const group of groups) {
      const info: Record<string, unknown> = {};
      for (let i = 0; i < group.length; i += 2) info[String(group[i])] = group[i + 1];
      if (info.name !== PROJECTIONS_GROUP) continue;
      total.pending += Number(info.pending);
      total.lag += Number(info.lag ?? 0);
    }
  }
  return total;
}
