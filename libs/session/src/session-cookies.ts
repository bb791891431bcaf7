import { Inject, Injectable } from '@nestjs/common';
import { serialize, type SerializeOptions } from 'cookie';
import type { ResolvedSessionOptions } from './session-options';
import { SESSION_OPTIONS } from './session.constants';

type HeaderValue = number | string | string[] | undefined;

/** The part of a Node or Express response the cookie helper needs. */
export interface NodeCookieResponse {
  getHeader(name: string): HeaderValue;
  setHeader(name: string, value: string | string[]): unknown;
}

/** The part of a Fastify reply the cookie helper needs (it has no setHeader). */
export interface FastifyCookieReply {
  getHeader(name: string): HeaderValue;
  header(name: string, value: string[]): unknown;
}

/** A response of either HTTP adapter, or a plain Node response. */
export type CookieResponse = NodeCookieResponse | FastifyCookieReply;

/** What the cookie needs of a created or rotated session (CreatedSession, RotatedSession). */
export interface CookieSession {
  token: string;
  /** When the session ends whatever the activity (epoch ms): the cookie must not outlive it. */
  absoluteExpiresAt: number;
}

/**
 * Writes and clears the session cookie with safe defaults: HttpOnly, SameSite=Lax, Path=/,
 * Secure unless configured off, `__Host-` prefixed when Secure, and a Max-Age of what remains of
 * the session's absolute lifetime (a rotated token is not given a fresh full lifetime).
 */
@Injectable()
export class SessionCookies {
  constructor(@Inject(SESSION_OPTIONS) private readonly options: ResolvedSessionOptions) {}

  /** The full cookie name (`__Host-session_id` by default when Secure). */
  get name(): string {
    return this.options.cookie.name;
  }

  /**
   * Sets the cookie for `session` (what create() or rotate() returned). A bare token is taken for
   * a session just created: Max-Age is then the full absolute lifetime.
   */
  set(response: CookieResponse, session: CookieSession | string, now = Date.now()): void {
    const maxAgeMs =
      typeof session === 'string'
        ? this.options.absoluteTtlMs
        : Math.min(this.options.absoluteTtlMs, Math.max(0, session.absoluteExpiresAt - now));
    const token = typeof session === 'string' ? session : session.token;
    this.append(
      response,
      serialize(this.name, token, { ...this.attributes(), maxAge: Math.floor(maxAgeMs / 1000) }),
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

  /** Adds a Set-Cookie line, keeping the ones already set (another cookie, a cleared one). */
  private append(response: CookieResponse, cookie: string): void {
    if ('setHeader' in response && typeof response.setHeader === 'function') {
      const existing = response.getHeader('Set-Cookie');
      const list =
        existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
      response.setHeader('Set-Cookie', [...list, cookie]);
      return;
    }
    // Fastify's reply.header appends to an existing set-cookie instead of replacing it.
    (response as FastifyCookieReply).header('set-cookie', [cookie]);
  }
}
