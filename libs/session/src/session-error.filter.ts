import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpStatus,
  type HttpServer,
  Inject,
  Optional,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
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

/** An Express response or a Fastify reply, for a filter built without its adapter. */
interface AnyResponse {
  status?(code: number): { json?(body: unknown): unknown };
  code?(code: number): { send(body: unknown): unknown };
}

/**
 * Answers session errors in Nest's error shape `{ statusCode, message, error }`, on Express and
 * on Fastify: like Nest's BaseExceptionFilter, it replies through the HTTP adapter, given to the
 * constructor (`app.useGlobalFilters(new SessionErrorFilter(app.getHttpAdapter()))`) or injected
 * when provided as APP_FILTER. Register it globally so no session error becomes a 500.
 */
@Catch(SessionError)
export class SessionErrorFilter implements ExceptionFilter<SessionError> {
  @Optional()
  @Inject()
  private readonly httpAdapterHost?: HttpAdapterHost;

  constructor(private readonly httpAdapter?: HttpServer) {}

  catch(error: SessionError, host: ArgumentsHost): void {
    const status = SESSION_ERROR_STATUS[error.code] ?? HttpStatus.INTERNAL_SERVER_ERROR;
    // Unavailability details (host names, ports) stay out of the answer.
    const message =
      status === HttpStatus.SERVICE_UNAVAILABLE ? 'Session store unavailable' : error.message;
    const body = { statusCode: status, message, error: titleOf(status) };
    const response = host.switchToHttp().getResponse<AnyResponse>();
    const adapter = this.httpAdapter ?? this.httpAdapterHost?.httpAdapter;
    if (adapter) {
      if (adapter.isHeadersSent(response)) adapter.end(response);
      else adapter.reply(response, body, status);
      return;
    }
    replyWithout(response, body, status);
  }
}

/** `new SessionErrorFilter()` without an adapter: the reply's own API (Express, then Fastify). */
function replyWithout(response: AnyResponse, body: unknown, status: number): void {
  const express = response.status?.(status);
  if (typeof express?.json === 'function') {
    express.json(body);
    return;
  }
  if (typeof response.code === 'function') {
    response.code(status).send(body);
    return;
  }
  throw new Error('SessionErrorFilter: unknown response object; pass app.getHttpAdapter()');
}

function titleOf(status: HttpStatus): string {
  return (HttpStatus[status] ?? 'Error')
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}
