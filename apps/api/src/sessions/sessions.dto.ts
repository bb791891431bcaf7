import { BadRequestException } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import type { SessionData } from '@app/session';
import { isPlainObject, objectBody } from '../http/body';

export class UpdateSessionDataDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      'JSON merge patch of the top-level keys (null removes a key). Secrets such as passwords or ' +
      'card numbers are refused at any depth; `roles` is server-owned.',
    example: { theme: 'dark', cart: { items: 2 } },
  })
  data!: SessionData;
}

export class SessionDataResponseDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    example: { roles: ['user'], theme: 'dark' },
  })
  data!: SessionData;
}

export class SessionListItemDto {
  @ApiProperty({ example: '7-1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed' })
  sessionId!: string;
  @ApiProperty({ example: 1764206917123, description: 'epoch ms' })
  createdAt!: number;
  @ApiProperty({ example: 1764206917123, description: 'epoch ms' })
  lastAccessedAt!: number;
  @ApiProperty({
    example: 1764210517123,
    description: 'epoch ms; idle or absolute expiry, whichever is first',
  })
  expiresAt!: number;
  @ApiProperty({ required: false, example: 'Mozilla/5.0 …' })
  userAgent?: string;
  @ApiProperty({ required: false, example: '203.0.113.7' })
  ip?: string;
  @ApiProperty({ description: 'Whether this is the session making the request' })
  current!: boolean;
}

export class RevokedCountDto {
  @ApiProperty({
    example: 2,
    description: 'Sessions ended, as counted from the per-user index the worker maintains',
  })
  revoked!: number;
}

/**
 * `{ data: { ... } }` with a plain object; 400 otherwise. The library checks the rest (server-owned
 * `roles` and forbidden keys → 400, size and key count → 413).
 */
export function parseUpdateBody(body: unknown): SessionData {
  const { data } = objectBody(body, '{ data: { ... } }');
  if (!isPlainObject(data)) throw new BadRequestException('data must be a JSON object');
  return data as SessionData;
}
