import { type ArgumentsHost, Catch, type ExceptionFilter, HttpStatus } from '@nestjs/common';
import { SessionError } from './errors';

/** The one mapping from session errors to HTTP statuses. */
export const SESSION_ERROR_STATUS: Record<string, HttpStatus> = {
  INVALID_TOKEN: HttpStatus.UNAUTHORIZED,
  INVALID_SESSION_ID: HttpStatus.NOT_FOUND,
  INVALID_USER_ID: HttpStatus.BAD_REQUEST,
  SESSION_NOT_FOUND: HttpStatus.NOT_FOUND,
  INVALID_SESSION_DATA: HttpStatus.BAD_REQUEST,
  FORBIDDEN_SESSION_DATA: HttpStatus.BAD_REQUEST,
  SESSION_DATA_TOO_LARGE: HttpStatus.PAYLOAD_TOO_LARGE,
  SESSION_DATA_TOO_MANY_KEYS: HttpStatus.PAYLOAD_TOO_LARGE,
  SERVER_OWNED_SESSION_DATA: HttpStatus.BAD_REQUEST,
  INVALID_SESSION_META: HttpStatus.BAD_REQUEST,
  SESSION_STORE_UNAVAILABLE: HttpStatus.SERVICE_UNAVAILABLE,
  DEPLOYMENT_MISMATCH: HttpStatus.SERVICE_UNAVAILABLE,
};

interface JsonResponse {
  status(code: number): { json(body: unknown): unknown };
}

/**
 * Answers session errors in Nest's error shape `{ statusCode, message, error }`. Register it
 * globally (`app.useGlobalFilters(new SessionErrorFilter())`) so no session error becomes a 500.
 */
@Catch(SessionError)
export class SessionErrorFilter implements ExceptionFilter<SessionError> {
  catch(error: SessionError, host: ArgumentsHost): void {
    const status = SESSION_ERROR_STATUS[error.code] ?? HttpStatus.INTERNAL_SERVER_ERROR;
    const response = host.switchToHttp().getResponse<JsonResponse>();
    // Unavailability details (host names, ports) stay out of the answer.
    const message =
      status === HttpStatus.SERVICE_UNAVAILABLE ? 'Session store unavailable' : error.message;
    response.status(status).json({ statusCode: status, message, error: titleOf(status) });
  }
}

function titleOf(status: HttpStatus): string {
  return (HttpStatus[status] ?? 'Error')
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}
