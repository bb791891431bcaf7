import { Acknowledger } from './redis-streams.acknowledger';
import { Claimer } from './redis-streams.claimer';
import { DeadLetterer } from './redis-streams.dead-letterer';
import { Dispatcher } from './redis-streams.dispatcher';
import { ConsumerGroups } from './redis-streams.groups';
import { EntryProcessor, type HandlerHost } from './redis-streams.processor';
import { RetentionGaps } from './redis-streams.retention';
import type { ServerRuntime, StreamsCounters } from './redis-streams.runtime';
import { CapacityGate } from './redis-streams.scheduler';

/** The parts of a server that do not depend on the topology (the readers do). */
export interface ServerParts {
  groups: ConsumerGroups;
  acknowledger: Acknowledger;
  dispatcher: Dispatcher;
  processor: EntryProcessor;
  claimer: Claimer;
  retention: RetentionGaps;
}

/** Wires the parts of a server once its streams are known (in listen()). */
export function createServerParts(
  runtime: ServerRuntime,
  streams: readonly string[],
  counters: StreamsCounters,
  host: HandlerHost,
): ServerParts {
  const partitions = new Map(streams.map((stream, index) => [stream, index]));
  const groups = new ConsumerGroups(runtime, streams);
  const retention = new RetentionGaps(runtime, streams, counters);
  const acknowledger = new Acknowledger(runtime, groups, counters, (stream, ids) =>
    retention.trimmedPending(stream, ids.length),
  );
  const deadLetterer = new DeadLetterer(runtime, counters);
  const gate = new CapacityGate(runtime.config.concurrency);
  const processor = new EntryProcessor(runtime, host, acknowledger, deadLetterer, counters, gate);
  const dispatcher = new Dispatcher(runtime, partitions, processor, acknowledger, counters, gate);
  const claimer = new Claimer(runtime, streams, dispatcher, acknowledger, groups, () =>
    retention.checkInBackground(),
  );
  return { groups, acknowledger, dispatcher, processor, claimer, retention };
}
