import { type ArgumentsHost, Catch, type RpcExceptionFilter } from '@nestjs/common';
import { type Observable, throwError } from 'rxjs';
import { UnsupportedEventError } from '@app/session';

/**
 * Nest's default RPC filter turns any error into "Internal server error". The transport records
 * the error with a dead-lettered event, so keep its name and message (they name the bad field or
 * the unsupported version, never a token: events carry none). An event this release cannot read
 * (UnsupportedEventError: a newer schema, a malformed payload) fails the same way every time:
 * marked `permanent`, the transport dead-letters it at once instead of retrying it.
 */
@Catch()
export class ProjectionErrorFilter implements RpcExceptionFilter<unknown> {
  catch(error: unknown, _host: ArgumentsHost): Observable<never> {
    const described =
      error instanceof Error
        ? {
            status: 'error',
            message: `${error.name}: ${error.message}`,
            permanent: error instanceof UnsupportedEventError,
          }
        : error;
    return throwError(() => described);
  }
}
