import { applyDecorators } from '@nestjs/common';
import {
  ApiProperty,
  ApiResponse,
  ApiSecurity,
  ApiServiceUnavailableResponse,
  ApiUnauthorizedResponse,
  DocumentBuilder,
  type OpenAPIObject,
} from '@nestjs/swagger';

/** Names of the security schemes in the OpenAPI document. */
export const AUTH_SCHEMES = {
  cookie: 'session-cookie',
  header: 'session-header',
  bearer: 'bearer',
  csrf: 'csrf-token',
} as const;

export class ErrorResponseDto {
  @ApiProperty({ example: 400 })
  statusCode!: number;

  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    example: 'Malformed JSON body',
  })
  message!: string | string[];

  @ApiProperty({ example: 'Bad Request' })
  error!: string;
}

/** Documents an error status with Nest's error shape. */
export const ApiError = (status: number, description: string) =>
  ApiResponse({ status, description, type: ErrorResponseDto });

/**
 * A route that needs a session: any one of cookie, x-session-id header or bearer token. With
 * `csrf`, the cookie alternative also needs the x-csrf-token header (the library's check for
 * cookie-authenticated writes).
 */
export const ApiSessionAuth = (options: { csrf?: boolean } = {}) =>
  applyDecorators(
    ApiSecurity(
      options.csrf
        ? { [AUTH_SCHEMES.cookie]: [], [AUTH_SCHEMES.csrf]: [] }
        : { [AUTH_SCHEMES.cookie]: [] },
    ),
    ApiSecurity(AUTH_SCHEMES.header),
    ApiSecurity(AUTH_SCHEMES.bearer),
    ApiUnauthorizedResponse({ description: 'No valid session', type: ErrorResponseDto }),
    ApiServiceUnavailableResponse({
      description: 'Session store unavailable',
      type: ErrorResponseDto,
    }),
    ...(options.csrf
      ? [ApiError(403, 'Cookie authentication without a valid x-csrf-token header')]
      : []),
  );

/** `cookieName`: the session cookie's full name (`__Host-session_id` when Secure). */
export function documentConfig(cookieName = 'session_id'): Omit<OpenAPIObject, 'paths'> {
  return new DocumentBuilder()
    .setTitle('Session reference API')
    .setDescription(
      'Login, sessions, revocation and operations endpoints of the reference app built on libs/session. ' +
        `Authenticate with the ${cookieName} cookie, the x-session-id header or an Authorization: Bearer token. ` +
        'Cookie-authenticated POST/PATCH/DELETE requests also need the x-csrf-token header, ' +
        'and browsers may send them (and logins) only from the same origin or an allowed one. ' +
        'Times are epoch milliseconds.',
    )
    .setVersion('1.0')
    .addCookieAuth(
      cookieName,
      { type: 'apiKey', in: 'cookie', name: cookieName },
      AUTH_SCHEMES.cookie,
    )
    .addApiKey(
      { type: 'apiKey', in: 'header', name: 'x-session-id', description: 'The session token' },
      AUTH_SCHEMES.header,
    )
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <session token>' },
      AUTH_SCHEMES.bearer,
    )
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'x-csrf-token',
        description: 'The csrfToken of the session; needed with cookie authentication on writes',
      },
      AUTH_SCHEMES.csrf,
    )
    .build();
}
