import { ApiProperty } from '@nestjs/swagger';
import type { SessionData } from '@app/session';
import { objectBody, stringField } from '../http/body';

export const MAX_USER_ID_LENGTH = 256;
export const MAX_PASSWORD_LENGTH = 1024;

export class LoginRequestDto {
  @ApiProperty({ example: 'alice', minLength: 1, maxLength: MAX_USER_ID_LENGTH })
  userId!: string;

  @ApiProperty({
    example: 'alice-demo-pass',
    minLength: 1,
    maxLength: MAX_PASSWORD_LENGTH,
    format: 'password',
  })
  password!: string;
}

/** Validates a login body by hand: any other shape is a 400, never a 500. */
export function parseLoginBody(body: unknown): LoginRequestDto {
  const object = objectBody(body, '{ userId, password }');
  return {
    userId: stringField(object, 'userId', MAX_USER_ID_LENGTH, { controlChars: false }),
    password: stringField(object, 'password', MAX_PASSWORD_LENGTH),
  };
}

const SESSION_ID_EXAMPLE = '3-0b7e1f9e-2c4d-4a8b-9f10-6a2b3c4d5e6f';

export class LoginResponseDto {
  @ApiProperty({ example: SESSION_ID_EXAMPLE, description: 'Public session handle' })
  sessionId!: string;

  @ApiProperty({ description: 'The session token (secret); also set as the session cookie' })
  token!: string;

  @ApiProperty({ example: 'alice' })
  userId!: string;

  @ApiProperty({ type: [String], example: ['user'] })
  roles!: string[];

  @ApiProperty({
    description: 'When the session ends if unused (epoch ms)',
    example: 1767225600000,
  })
  expiresAt!: number;

  @ApiProperty({ description: 'Send as x-csrf-token on cookie-authenticated writes' })
  csrfToken!: string;
}

export class MeResponseDto {
  @ApiProperty({ example: 'alice' })
  userId!: string;

  @ApiProperty({ example: SESSION_ID_EXAMPLE })
  sessionId!: string;

  @ApiProperty({ type: [String], example: ['user'] })
  roles!: readonly string[];

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { roles: ['user'], theme: 'dark' },
  })
  data!: SessionData;

  @ApiProperty({ description: 'epoch ms' })
  createdAt!: number;

  @ApiProperty({ description: 'epoch ms' })
  lastAccessedAt!: number;

  @ApiProperty({ description: 'When the session ends if unused (epoch ms)' })
  expiresAt!: number;

  @ApiProperty({ description: 'When the session ends whatever the activity (epoch ms)' })
  absoluteExpiresAt!: number;

  @ApiProperty()
  csrfToken!: string;
}

export class RotateResponseDto {
  @ApiProperty({ example: SESSION_ID_EXAMPLE, description: 'The new public session handle' })
  sessionId!: string;

  @ApiProperty({ description: 'The new session token; the old one is rejected from now on' })
  token!: string;

  @ApiProperty({ description: 'The new CSRF token (rotation replaces it too)' })
  csrfToken!: string;
}
