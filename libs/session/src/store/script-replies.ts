import type { InvalidSessionReason, SessionMeta } from '../session.types';
import type { ScriptReply } from './session-scripts';
import { SESSION_FIELD } from './session-fields';
import type { ScriptOutcome } from './session-store.types';

/** A script's reply as an outcome: status 'ok' then values, or a refusal with an optional figure. */
export function outcome<T>(reply: ScriptReply, value: (reply: ScriptReply) => T): ScriptOutcome<T> {
  const [status] = reply;
  if (status === 'ok') return { ok: true, value: value(reply) };
  return {
    ok: false,
    reason: status as InvalidSessionReason,
    detail: reply[1] === undefined ? undefined : Number(reply[1]),
  };
}

/** The session's optional metadata as hash fields (name, value), only those known. */
export function metaFields(meta: Required<SessionMeta>): string[] {
  const fields: string[] = [];
  if (meta.userAgent !== '') fields.push(SESSION_FIELD.userAgent, meta.userAgent);
  if (meta.ip !== '') fields.push(SESSION_FIELD.ip, meta.ip);
  if (meta.deviceLabel !== '') fields.push(SESSION_FIELD.deviceLabel, meta.deviceLabel);
  return fields;
}

/** Milliseconds since the epoch from a TIME reply. */
export function timeReplyMs([seconds, micros]: readonly (string | number)[]): number {
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}
