import {
  BadRequestException,
  HttpException,
  Inject,
  Injectable,
  type NestMiddleware,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { json, type NextFunction, type Request, type Response } from 'express';
import { STATUS_CODES } from 'node:http';
import { API_CONFIG } from '../api.constants';
import type { ApiConfig } from '../config';

/** What body-parser (type-is) calls having a body: a length or a chunked transfer. */
function hasBody(request: Request): boolean {
  return (
    request.headers['transfer-encoding'] !== undefined ||
    !Number.isNaN(Number(request.headers['content-length']))
  );
}

interface BodyParserError {
  status?: unknown;
  type?: unknown;
  message?: unknown;
}

/** Maps a body-parser failure (always the client's doing when 4xx) to Nest's error shape. */
export function bodyParserException(error: unknown, limitBytes: number): Error {
  const { status, type, message } = (error ?? {}) as BodyParserError;
  if (typeof status !== 'number' || status < 400 || status >= 500) {
    // Not the client's doing (e.g. a stream already read): a bug, answered 500 and logged.
    return error instanceof Error ? error : new Error(String(error));
  }
  if (status === 413) {
    return new PayloadTooLargeException(`Request body is larger than ${limitBytes} bytes`);
  }
  if (type === 'encoding.unsupported') {
    return new UnsupportedMediaTypeException(
      'Content-Encoding is not accepted: send the JSON body uncompressed',
    );
  }
  if (type === 'entity.parse.failed') return new BadRequestException('Malformed JSON body');
  const text = typeof message === 'string' ? message : (STATUS_CODES[status] ?? 'Bad request');
  return new HttpException(
    { statusCode: status, message: text, error: STATUS_CODES[status] },
    status,
  );
}

/**
 * Parses JSON bodies (objects and arrays only, at most BODY_LIMIT_BYTES) as a Nest middleware, so
 * that a malformed or oversize body becomes a 400/413 in Nest's error shape, and is logged and
 * counted like any other request (Nest's built-in parser runs before the logger and the metrics).
 *
 * Compressed bodies (Content-Encoding gzip, deflate, br) are refused 415 without inflating a
 * byte: a 2.2 KB gzip body used to become 100 KB of data (45×) and the CPU to inflate it, and no
 * client of this api needs compression for bodies of a few KB. So the bytes a client sends are
 * the bytes the limit counts.
 */
@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  private readonly limitBytes: number;
  private readonly parse: ReturnType<typeof json>;

  constructor(@Inject(API_CONFIG) config: ApiConfig) {
    this.limitBytes = config.bodyLimitBytes;
    this.parse = json({
      limit: this.limitBytes,
      inflate: false,
      strict: true,
      type: ['application/json', 'application/*+json'],
    });
  }

  async use(request: Request, response: Response, next: NextFunction): Promise<void> {
    // No body to parse (most GETs): on at once, as body-parser itself would, without the promise.
    if (!hasBody(request)) return next();
    await new Promise<void>((resolve, reject) =>
      this.parse(request, response, (error?: unknown) =>
        error ? reject(bodyParserException(error, this.limitBytes)) : resolve(),
      ),
    );
    next();
  }
}
