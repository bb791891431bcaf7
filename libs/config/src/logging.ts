import type { LoggerService } from '@nestjs/common';
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevel } from './session-env';

/**
 * The one logging setup of every process (api, worker, command-line tools): pino, JSON lines in
 * production, human-readable lines in development (colours only on a terminal), the level from
 * LOG_LEVEL, and every secret redacted by name wherever it appears in a logged object.
 */

/**
 * Everything secret that can reach a log line: the session token (cookie, x-session-id header,
 * bearer header, the Set-Cookie answer), the CSRF token and passwords. Paths follow pino's redact
 * syntax; the generic ones cover objects an app logs by hand (`logger.info({ token })`).
 */
export const REDACTED_PATHS: readonly string[] = [
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-session-id"]',
  'req.headers["x-csrf-token"]',
  'req.headers["proxy-authorization"]',
  'req.query.token',
  'req.body',
  'res.headers["set-cookie"]',
  'password',
  'token',
  'csrfToken',
  'sessionToken',
  'cookie',
  'authorization',
  '*.password',
  '*.token',
  '*.csrfToken',
  '*.sessionToken',
  '*.cookie',
  '*.authorization',
];

export const REDACTED = '[Redacted]';

export interface LoggingConfig {
  logLevel: LogLevel;
  /** `development` writes human-readable lines; anything else JSON lines. */
  nodeEnv?: string;
}

/**
 * The root pino logger of a process. `extra` adds what one app needs (the api's request
 * serializers and request-id mixin). A `destination` (tests) always gets JSON lines; 'stderr'
 * is for command-line tools, whose stdout carries their report.
 */
export function createRootLogger(
  config: LoggingConfig,
  extra: Partial<LoggerOptions> = {},
  destination?: DestinationStream | 'stderr',
): Logger {
  const options: LoggerOptions = {
    level: config.logLevel,
    redact: { paths: [...REDACTED_PATHS], censor: REDACTED },
    ...extra,
  };
  const toStderr = destination === 'stderr';
  if (destination && !toStderr) return pino(options, destination);
  if (config.nodeEnv === 'development') {
    // In this thread and synchronous, not as a worker-thread transport: a process that stops
    // (or fails to start) soon after starting loses no line, and lines keep their order with
    // what else it prints. Development only, so its cost per line does not matter.
    const output = toStderr ? process.stderr : process.stdout;
    const stream = pretty({
      colorize: Boolean(output.isTTY), // no colour codes in a file or a pipe
      translateTime: 'SYS:HH:MM:ss.l',
      sync: true,
      destination: toStderr ? 2 : 1,
    });
    return pino(options, stream);
  }
  // Synchronous writes: a tool that calls process.exit() right after logging loses nothing.
  return toStderr ? pino(options, pino.destination({ fd: 2, sync: true })) : pino(options);
}

type LogMethod = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * Nest's logger interface over a pino logger, for apps that do not use nestjs-pino's request
 * scope (the worker, the command-line tools): Nest's context (the class name) becomes a
 * `context` field, an Error becomes `err`, as nestjs-pino writes them in the api.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly root: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    // Nest passes (message, stack, context); a stack string is kept as `stack`.
    const [stack, ...rest] = params;
    if (typeof stack === 'string' && stack.includes('\n    at ') && rest.length > 0)
      return this.write('error', message, rest, { stack });
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(
    level: LogMethod,
    message: unknown,
    params: unknown[],
    fields: Record<string, unknown> = {},
  ): void {
    const last = params.at(-1);
    const context = typeof last === 'string' ? last : undefined;
    const bindings = context ? { context, ...fields } : fields;
    if (message instanceof Error) this.root[level]({ ...bindings, err: message }, message.message);
    else if (typeof message === 'object' && message !== null)
      this.root[level]({ ...bindings, ...message });
    else this.root[level](bindings, String(message));
  }
}
