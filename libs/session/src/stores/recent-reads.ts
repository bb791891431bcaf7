import { LRUCache } from 'lru-cache';
import type { SessionRead } from './middleware-sessions';

const READS_PER_SID = 4;

/**
 * The last reads handed out per sid, for a middleware that gives a store no way to tie a save to
 * the get of the same request (@fastify/session copies what get() returned into a new object).
 * A save is compared with the read that explains it best: the one it differs from in the fewest
 * keys. Two overlapping requests that change different keys each still write only their own; a
 * request that sets a key back to the value it had before another request changed it is taken for
 * one that left it alone (the one case this cannot tell apart).
 */
export class RecentReads {
  private readonly bySid: LRUCache<string, SessionRead[]>;

  constructor(maxSids: number, maxAgeMs: number) {
    this.bySid = new LRUCache({ max: maxSids, ttl: maxAgeMs });
  }

  remember(sid: string, read: SessionRead): void {
    const reads = this.bySid.get(sid) ?? [];
    reads.push(read);
    if (reads.length > READS_PER_SID) reads.shift();
    this.bySid.set(sid, reads);
  }

  /** The read `values` most probably started from, or undefined when none is known. */
  bestFor(sid: string, values: ReadonlyMap<string, string>): SessionRead | undefined {
    let best: SessionRead | undefined;
    let fewest = Infinity;
    // Newest first, so a tie goes to the latest read.
    for (const read of [...(this.bySid.get(sid) ?? [])].reverse()) {
      let differing = 0;
      for (const [key, json] of values) if (read.values.get(key) !== json) differing++;
      for (const key of read.values.keys()) if (!values.has(key)) differing++;
      if (differing < fewest) [best, fewest] = [read, differing];
    }
    return best;
  }

  forget(sid: string): void {
    this.bySid.delete(sid);
  }
}
