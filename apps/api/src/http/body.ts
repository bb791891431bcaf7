import { BadRequestException } from '@nestjs/common';

// Control characters would make keys and logs ambiguous.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** The JSON body as an object, or 400. */
export function objectBody(body: unknown, shape: string): Record<string, unknown> {
  if (!isPlainObject(body)) throw new BadRequestException(`Body must be a JSON object ${shape}`);
  return body;
}

/** A string field of 1..maxLength characters (optionally without control characters), or 400. */
export function stringField(
  body: Record<string, unknown>,
  name: string,
  maxLength: number,
  options: { controlChars?: boolean } = {},
): string {
  const value = body[name];
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw new BadRequestException(`${name} must be a string of 1 to ${maxLength} characters`);
  }
  if (options.controlChars === false && CONTROL_CHARS.test(value)) {
    throw new BadRequestException(`${name} must not contain control characters`);
  }
  return value;
}
