import { Inject, Injectable } from '@nestjs/common';
import { serialize, type SerializeOptions } from 'cookie';
import type { ResolvedSessionOptions } from './session-options';
import { SESSION_OPTIONS } from './session.constants';

/** The part of a Node/Express response the cookie helper needs. */
export interface CookieResponse {
  getHeader(name: string): number | string | string[] | undefined;
  setHeader(name: string, value: string | string[]): unknown;
}

/**
 * Writes and clears the session cookie with safe defaults: HttpOnly, SameSite=Lax, Path=/,
 * Secure unless configured off, and a Max-Age no longer than the absolute session age.
 */
@Injectable()
export class SessionCookies {
  constructor(@Inject(SESSION_OPTIONS) private readonly options: ResolvedSessionOptions) {}

  get name(): string {
    return this.options.cookie.name;
  }

  set(response: CookieResponse, token: string): void {
    this.append(
      response,
      serialize(this.name, token, {
        ...this.attributes(),
        maxAge: this.options.absoluteTtlMs / 1000,
      }),
    );
  }

  clear(response: CookieResponse): void {
    this.append(
      response,
      serialize(this.name, '', { ...this.attributes(), maxAge: 0, expires: new Date(0) }),
    );
  }

  private attributes(): SerializeOptions {
    const { secure, sameSite, path, domain } = this.options.cookie;
    return { httpOnly: true, secure, sameSite, path, domain };
  }

  private append(response: CookieResponse, cookie: string): void {
    const existing = response.getHeader('Set-Cookie');
    const list =
      existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
    response.setHeader('Set-Cookie', [...list, cookie]);
  }
}
