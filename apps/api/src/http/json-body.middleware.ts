import {
  BadRequestException,
  HttpException,
  Injectable,
  type NestMiddleware,
  PayloadTooLargeException,
} from '@nestjs/common';
import { json, type NextFunction, type Request, type Response } from 'express';
import { STATUS_CODES } from 'node:http';
import { JSON_BODY_LIMIT } from '../api.constants';

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
export function bodyParserException(error: unknown): Error {
  const { status, type, message } = (error ?? {}) as BodyParserError;
  if (typeof status !== 'number' || status < 400 || status >= 500) {
    // Not the client's doing (e.g. a stream already read): a bug, answered 500 and logged.
    return error instanceof Error ? error : new Error(String(error));
  }
  if (status === 413) {
    return new PayloadTooLargeException(`Request body is larger than ${JSON_BODY_LIMIT}`);
  }
  if (type === 'entity.parse.failed') return new BadRequestException('Malformed JSON body');
  const text = typeof message === 'string' ? message : (STATUS_CODES[status] ?? 'Bad request');
  return new HttpException(
    { statusCode: status, message: text, error: STATUS_CODES[status] },
    status,
  );
}

/**
 * Parses JSON bodies (objects and arrays only, at most JSON_BODY_LIMIT) as a Nest middleware, so
 * that a malformed or oversize body becomes a 400/413 in Nest's error shape, and is logged and
 * counted like any other request (Nest's built-in parser runs before the logger and the metrics).
 */
@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  private readonly parse = json({
    limit: JSON_BODY_LIMIT,
    strict: true,
    type: ['application/json', 'application/*+json'],
  });

  async use(request: Request, response: Response, next: NextFunction): Promise<void> {
    // No body to parse (most GETs): on at once, as body-parser itself would, without the promise.
    if (!hasBody(request)) return next();
    await new Promise<void>((resolve, reject) =>
      this.parse(request, response, (error?: unknown) =>
        error ? reject(bodyParserException(error)) : resolve(),
      ),
    );
    next();
  }
}
