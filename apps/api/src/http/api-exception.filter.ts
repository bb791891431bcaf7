import { type ArgumentsHost, Catch, HttpException, HttpStatus } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { STATUS_CODES } from 'node:http';
import { RateLimitedError } from '../rate-limit/rate-limited.error';

interface HttpErrorLike {
  statusCode?: unknown;
  status?: unknown;
  message?: unknown;
  expose?: unknown;
}

/** A 4xx error of the http-errors kind (body-parser, send), safe to show the client. */
function clientHttpError(error: unknown): { status: number; message: string } | null {
  if (error instanceof HttpException || typeof error !== 'object' || error === null) return null;
  const { statusCode, status, message, expose } = error as HttpErrorLike;
  const code = typeof statusCode === 'number' ? statusCode : status;
  if (typeof code !== 'number' || code < 400 || code >= 500 || expose === false) return null;
  return {
    status: code,
    message: typeof message === 'string' ? message : (STATUS_CODES[code] ?? 'Error'),
  };
}

/**
 * The catch-all filter: every error leaves in Nest's shape `{ statusCode, message, error }`. Client
 * errors raised outside Nest's exceptions keep their 4xx status; only a genuine bug is a 500 (and
 * is logged by the base filter). Session errors are mapped by the library's SessionErrorFilter,
 * registered after this one so it is tried first.
 */
@Catch()
export class ApiExceptionFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return super.catch(exception, host);
    if (exception instanceof RateLimitedError) {
      // Through the adapter: an Express response and a Fastify reply set headers differently.
      this.applicationRef?.setHeader(
        host.switchToHttp().getResponse(),
        'Retry-After',
        String(exception.retryAfterSeconds),
      );
      const status = HttpStatus.TOO_MANY_REQUESTS;
      const body = { statusCode: status, message: exception.message, error: STATUS_CODES[status] };
      return super.catch(new HttpException(body, status), host);
    }
    const clientError = clientHttpError(exception);
    if (clientError) {
      const { status, message } = clientError;
      return super.catch(
        new HttpException({ statusCode: status, message, error: STATUS_CODES[status] }, status),
        host,
      );
    }
    if (exception instanceof HttpException && typeof exception.getResponse() === 'string') {
      const status = exception.getStatus();
      const body = {
        statusCode: status,
        message: exception.getResponse(),
        error: STATUS_CODES[status],
      };
      return super.catch(new HttpException(body, status, { cause: exception }), host);
    }
    return super.catch(exception, host);
  }
}
