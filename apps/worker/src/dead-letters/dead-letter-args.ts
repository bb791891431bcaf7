/** What `worker:dead-letters` was asked to do. */
export interface DeadLetterCommand {
  action: 'list' | 'replay';
  /** Only this partition; all when absent. */
  partition?: number;
  ids: string[];
  reason?: string;
  pattern?: string;
  limit?: number;
}

export class DeadLetterUsageError extends Error {
  constructor(problem: string) {
    super(
      `${problem}\nusage: worker:dead-letters list|replay [--partition N] [--id ID]... ` +
        '[--reason REASON] [--pattern PATTERN] [--limit N]',
    );
    this.name = 'DeadLetterUsageError';
  }
}

/** Parses the command line (`process.argv.slice(2)`); a typed error names what is wrong. */
export function parseDeadLetterArgs(
  argv: readonly string[],
  partitions: number,
): DeadLetterCommand {
  const [action, ...rest] = argv;
  if (action !== 'list' && action !== 'replay')
    throw new DeadLetterUsageError(`unknown action ${JSON.stringify(action ?? '')}`);
  const command: DeadLetterCommand = { action, ids: [] };
  for (let i = 0; i < rest.length; i += 2) {
    const [flag, value] = [rest[i], rest[i + 1]];
    if (value === undefined) throw new DeadLetterUsageError(`${flag} needs a value`);
    switch (flag) {
      case '--partition':
        command.partition = wholeNumber(flag, value, partitions - 1);
        break;
      case '--limit':
        command.limit = wholeNumber(flag, value, Number.MAX_SAFE_INTEGER);
        break;
      case '--id':
        if (!/^\d+-\d+$/.test(value))
          throw new DeadLetterUsageError(`--id ${value}: not a stream id`);
        command.ids.push(value);
        break;
      case '--reason':
        command.reason = value;
        break;
      case '--pattern':
        command.pattern = value;
        break;
      default:
        throw new DeadLetterUsageError(`unknown option ${JSON.stringify(flag)}`);
    }
  }
  return command;
}

function wholeNumber(flag: string, value: string, max: number): number {
  const n = /^\d{1,15}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n > max)
    throw new DeadLetterUsageError(`${flag} must be a whole number from 0 to ${max}`);
  return n;
}
