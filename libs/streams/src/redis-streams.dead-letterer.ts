import { DATA_FIELD, PATTERN_FIELD } from './redis-streams.constants';
import { DeadLetterAbortedError } from './redis-streams.errors';
import type {
  DeadLetterReason,
  HeldEntry,
  ServerRuntime,
  StreamsCounters,
} from './redis-streams.runtime';

/**
 * Moves an entry to its dead-letter stream: XADD (capped at about `deadLetterMaxLen`) and XACK
 * in one MULTI, so an entry is never both dead-lettered and pending, nor acknowledged and lost.
 */
export class DeadLetterer {
  constructor(
    private readonly runtime: ServerRuntime,
    private readonly counters: StreamsCounters,
  ) {}

  /** A `malformed` entry also keeps its raw fields (it could not be decoded). */
  async deadLetter(
    entry: HeldEntry,
    fields: Record<string, string>,
    error: string,
    reason: DeadLetterReason,
  ): Promise<void> {
    const { config, logger } = this.runtime;
    const target = config.deadLetterStream(entry.stream);
    const record = deadLetterRecord(entry, fields, error, config, Date.now());
    record.push('reason', reason);
    if (reason === 'malformed') record.push('fields', JSON.stringify(fields));
    // A length backstop: a flood of poison entries must not fill Redis.
    const trim = config.deadLetterMaxLen > 0 ? ['MAXLEN', '~', config.deadLetterMaxLen] : [];
    const results = await this.runtime
      .commands()
      .multi()
      .call('XADD', target, ...trim, '*', ...record)
      .call('XACK', entry.stream, config.group, entry.id)
      .exec();
    const failure = results?.find(([err]) => err)?.[0];
    if (failure) throw failure;
    if (!results) throw new DeadLetterAbortedError(entry.stream, entry.id);
    this.counters.deadLettered++;
    this.counters.deadLetteredByReason[reason]++;
    this.counters.lastProgressAt = Date.now();
    logger.warn(`Dead-lettered ${entry.stream} ${entry.id} to ${target} (${reason}): ${error}`);
  }
}

/** The fields of a dead letter (README: Failures). */
export function deadLetterRecord(
  entry: HeldEntry,
  fields: Record<string, string>,
  error: string,
  { group, consumer }: { group: string; consumer: string },
  now: number,
): (string | number)[] {
  return [
    PATTERN_FIELD,
    fields[PATTERN_FIELD] ?? '',
    DATA_FIELD,
    fields[DATA_FIELD] ?? '',
    'error',
    error,
    'deliveryCount',
    entry.deliveryCount,
    'originalStream',
    entry.stream,
    'originalId',
    entry.id,
    'group',
    group,
    'consumer',
    consumer,
    'deadLetteredAt',
    now,
  ];
}
