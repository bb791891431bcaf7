import { parseSessionEvent, type SessionEvent, type SessionStore } from '@app/session';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where each partition stream ended when a rebuild or a check began: stream → last entry id. */
export type StreamSnapshot = Map<string, string>;

/** Orders two stream ids (`<ms>-<seq>`): negative, zero or positive. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs, aSeq = '0'] = a.split('-');
  const [bMs, bSeq = '0'] = b.split('-');
  const ms = BigInt(aMs) - BigInt(bMs);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(aSeq) - BigInt(bSeq);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

/** The last entry id of every partition stream, now. */
export async function snapshotStreams(store: SessionStore): Promise<StreamSnapshot> {
  const snapshot: StreamSnapshot = new Map();
  for (const stream of store.eventStreams()) snapshot.set(stream, await store.lastEventId(stream));
  return snapshot;
}

/**
 * Waits until the live consumer group has applied every entry up to the snapshot (handed out and
 * acknowledged), so its projections can be compared with a replay up to it. Streams without the
 * group (no worker ever ran) count as caught up. False when `timeoutMs` passed first.
 */
export async function waitForGroup(
  store: SessionStore,
  snapshot: StreamSnapshot,
  group: string,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (const [stream, upTo] of snapshot) {
    if (upTo === '0-0') continue;
    for (;;) {
      const progress = await store.groupProgress(stream, group, upTo);
      if (
        progress === null ||
        (compareStreamIds(progress.lastDeliveredId, upTo) >= 0 && progress.pendingUpTo === 0)
      )
        break;
      if (Date.now() > deadline) return false;
      await sleep(100);
    }
  }
  return true;
}

/** What changed after a snapshot: the sessions and users named by the events since. */
export interface SnapshotTail {
  sessions: Set<string>;
  /** Users with a revoke-all since (it ends sessions no event names). */
  revokedUsers: Set<string>;
  /** stream → the last id read (what a script checks after). */
  readUpTo: Map<string, string>;
  events: number;
}

/** Reads every event appended after the snapshot (up to now). */
export async function readTail(
  store: SessionStore,
  snapshot: StreamSnapshot,
): Promise<SnapshotTail> {
  const tail: SnapshotTail = {
    sessions: new Set(),
    revokedUsers: new Set(),
    readUpTo: new Map(snapshot),
    events: 0,
  };
  return extendTail(store, tail);
}

/**
 * Reads on from where the tail was last read: a long rebuild keeps it current, so the scripts
 * that look at the events after it (reconcileGoneSession) only ever scan a few.
 */
export async function extendTail(store: SessionStore, tail: SnapshotTail): Promise<SnapshotTail> {
  for (const [stream, from] of tail.readUpTo) {
    let after = from;
    for (;;) {
      const entries = await store.readEvents(stream, after === '0-0' ? '-' : after, 1000);
      for (const { id, pattern, json } of entries) {
        after = id;
        tail.events++;
        let event: SessionEvent;
        try {
          event = parseSessionEvent(JSON.parse(json ?? ''), { pattern, id });
        } catch {
          continue;
        }
        if (event.type === 'user.revoked') tail.revokedUsers.add(event.userId);
        else tail.sessions.add(event.sessionId);
        if (event.type === 'session.rotated') tail.sessions.add(event.previousSessionId);
      }
      if (entries.length < 1000) break;
    }
    tail.readUpTo.set(stream, after);
  }
  return tail;
}
