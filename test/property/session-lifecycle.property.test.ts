/**
 * Model-based tests of the session lifecycle: fast-check generates random command sequences
 * (create, validate, update, rotate, revoke, revoke-all, revoke-others, and time passing), runs each
 * against the real SessionService (in-process SessionModule on the test Redis, its own key prefix)
 * and against a small in-memory model, and checks that every answer agrees: valid or not (and why),
 * the data, the return values and the typed errors.
 *
 * A failure prints the seed and the shrunk command sequence; rerun with FC_SEED=<seed> (and
 * FC_PATH=<path>) to replay it.
 */
import fc from 'fast-check';
import {
  DEFAULT_FORBIDDEN_DATA_KEYS,
  type SessionService,
  type SessionValue,
  type ValidationResult,
} from '@app/session';
import { isForbiddenKey, normalizeDataKey } from '@app/session/forbidden-data';
import { createSessionFixture, type SessionFixture } from '../session/session-fixture';
import { sleep } from '../support/sleep';

jest.setTimeout(120_000);

const PARTITIONS = 4;
const MAX_DATA_BYTES = 512;
/** Low, so that sequences of small patches reach it. */
const MAX_DATA_KEYS = 4;
const FORBIDDEN = DEFAULT_FORBIDDEN_DATA_KEYS.map(normalizeDataKey);
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

const seed = process.env.FC_SEED
  ? Number(process.env.FC_SEED)
  : (Date.now() ^ (Math.random() * 2 ** 31)) >>> 0;
const path = process.env.FC_PATH;

// ---------------------------------------------------------------------------------------------
// The model

type Json = SessionValue;
type Data = Record<string, Json>;

interface ModelSession {
  userId: string;
  sessionId: string;
  token: string;
  data: Data;
  /** The session hash exists in Redis (revoke and rotation delete it; expiry drops it). */
  stored: boolean;
  /** It validates (stored, not expired, not revoked by the user's epoch). */
  live: boolean;
  /** Local-clock bounds of the last access and of the absolute expiry (time property only). */
  lastAccess: [number, number];
  absoluteAt: [number, number];
}

interface Model {
  sessions: ModelSession[];
  /** Time slept in this run (time property), to keep runs bounded. */
  sleptMs: number;
}

interface Real {
  service: SessionService;
  users: readonly string[];
}

/** What the runs did, printed at the end: evidence that the interesting paths were taken. */
class Tally {
  commands = 0;
  runs = 0;
  readonly byCommand = new Map<string, number>();
  readonly outcomes = new Map<string, number>();

  count(command: string, outcome: string): void {
    this.commands++;
    this.byCommand.set(command, (this.byCommand.get(command) ?? 0) + 1);
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
  }

  summary(): string {
    const list = (map: Map<string, number>) =>
      [...map.entries()]
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
    return `${this.commands} commands in ${this.runs} runs\n  by command: ${list(this.byCommand)}\n  outcomes: ${list(this.outcomes)}`;
  }
}

// Keys the generator avoids (the matching rules have their own tests in forbidden-data.spec.ts).
const isForbidden = (key: string) =>
  isForbiddenKey(key, FORBIDDEN) || normalizeDataKey(key) === 'roles';
const jsonRoundTrip = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const entryBytes = (key: string, value: Json) =>
  Buffer.byteLength(key, 'utf8') + Buffer.byteLength(JSON.stringify(value), 'utf8');
const dataBytes = (data: Data) =>
  Object.entries(data).reduce((sum, [k, v]) => sum + entryBytes(k, v), 0);

/** The error code a call threw, or 'ok'. */
async function codeOf<T>(call: () => Promise<T>): Promise<{ code: string; value?: T }> {
  try {
    return { code: 'ok', value: await call() };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string') throw error; // not a typed error: a bug, surface it as is
    return { code };
  }
}

function pick(model: Readonly<Model>, ref: number): ModelSession {
  return model.sessions[ref % model.sessions.length];
}

/** The token with a different (well-formed) secret. */
function tamper(token: string): string {
  const dot = token.indexOf('.');
  const secret = token.slice(dot + 1);
  const flipped = (secret[0] === 'A' ? 'B' : 'A') + secret.slice(1);
  return `${token.slice(0, dot)}.${flipped}`;
}

const MALFORMED_TOKENS = [
  '',
  'not-a-token',
  `0-00000000-0000-4000-8000-000000000000`, // no secret
  `${PARTITIONS}-00000000-0000-4000-8000-000000000000.${'A'.repeat(43)}`, // partition out of range
  `0-00000000-0000-4000-8000-000000000000.${'A'.repeat(42)}`, // secret too short
  `0-00000000-0000-4000-8000-000000000000.${'A'.repeat(43)} `,
  `0-00000000-0000-1000-8000-000000000000.${'A'.repeat(43)}`, // not a uuid v4
  `00-00000000-0000-4000-8000-000000000000.${'A'.repeat(43)}`, // non-canonical partition
  'ü'.repeat(300),
];
const MALFORMED_SESSION_IDS = [
  '',
  'x',
  `${PARTITIONS}-00000000-0000-4000-8000-000000000000`,
  '0-00000000-0000-4000-8000-00000000000G',
  '0-00000000-0000-4000-8000-000000000000.suffix',
];
const BAD_USER_IDS = ['', 'line\nbreak', 'nul\u0000', 'x'.repeat(257), 'é'.repeat(129)];

// ---------------------------------------------------------------------------------------------
// Arbitraries: session data with one defect at most, so the expected error is unambiguous.

/** Keys that are never forbidden, reserved, empty or too long. */
const safeKey = fc
  .oneof(
    fc.constantFrom('a', 'b', 'theme', 'cart', 'ü', '🎉', 'k-1', 'with space', 'x.y', 'd:z'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }),
  )
  .filter((k) => k.length <= 128 && !RESERVED.has(k) && !isForbidden(k));

const jsonValue: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ unit: 'binary', maxLength: 24 }),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(safeKey, tie('value'), { maxKeys: 3 }),
  ),
})).value;

/** A valid top-level patch: safe keys, JSON values or null (delete). */
const goodPatch = fc.dictionary(safeKey, fc.option(jsonValue, { nil: null, freq: 4 }), {
  minKeys: 1,
  maxKeys: 3,
});

type PatchCase =
  | { kind: 'ok'; patch: Data }
  | { kind: 'bad'; patch: Record<string, unknown>; code: string; label: string };

const badPatch: fc.Arbitrary<PatchCase> = fc.oneof(
  fc
    .constantFrom(
      { password: 'hunter2' },
      { newPassword: 'x' },
      { Credit_Card: '4111111111111111' },
      { prefs: { cvv: '123' } },
      { list: [1, { 'card-number': 'x' }] },
      { deep: { a: { b: { passphrase: 'p' } } } },
    )
    .map(
      (patch) =>
        ({ kind: 'bad', patch, code: 'FORBIDDEN_SESSION_DATA', label: 'forbidden' }) as const,
    ),
  fc
    .constantFrom(
      JSON.parse('{"__proto__": 1}') as Record<string, unknown>,
      { nested: { constructor: 1 } },
      { '': 1 },
      { ['k'.repeat(129)]: 1 },
      { n: Number.NaN },
      { n: Number.POSITIVE_INFINITY },
      { when: new Date(0) },
      {},
      { gone: undefined },
    )
    .map(
      (patch) => ({ kind: 'bad', patch, code: 'INVALID_SESSION_DATA', label: 'invalid' }) as const,
    ),
  fc
    .constantFrom({ blob: 'x'.repeat(MAX_DATA_BYTES) }, { blob: '€'.repeat(200) })
    .map(
      (patch) =>
        ({ kind: 'bad', patch, code: 'SESSION_DATA_TOO_LARGE', label: 'too-large' }) as const,
    ),
);

const patchCase: fc.Arbitrary<PatchCase> = fc.oneof(
  { weight: 4, arbitrary: goodPatch.map((patch) => ({ kind: 'ok', patch }) as const) },
  { weight: 1, arbitrary: badPatch },
);

// ---------------------------------------------------------------------------------------------
// Expectations shared by the commands

/** The model's expectation for a validation of a session without time passing. */
function expectedValidation(session: ModelSession): true | string {
  if (!session.stored) return 'unknown';
  if (!session.live) return 'revoked';
  return true;
}

function checkValidation(
  result: ValidationResult,
  session: ModelSession,
  expected: true | string,
): void {
  if (expected === true) {
    expect(result).toMatchObject({ valid: true });
    if (!result.valid) return;
    expect(result.session.sessionId).toBe(session.sessionId);
    expect(result.session.userId).toBe(session.userId);
    expect(result.session.data).toEqual(session.data);
  } else {
    expect(result).toEqual({ valid: false, reason: expected });
  }
}

/** Update: the error (or the merged data) the model expects. */
function expectedUpdate(session: ModelSession, change: PatchCase): { code: string; data?: Data } {
  if (change.kind === 'bad') return { code: change.code };
  // A deletion counts its key and `null`.
  const patchBytes = Object.entries(change.patch).reduce(
    (sum, [k, v]) => sum + entryBytes(k, v),
    0,
  );
  if (patchBytes > MAX_DATA_BYTES) return { code: 'SESSION_DATA_TOO_LARGE' };
  if (!session.stored || !session.live) return { code: 'SESSION_NOT_FOUND' };
  const merged: Data = { ...session.data };
  for (const [k, v] of Object.entries(change.patch)) {
    if (v === null) delete merged[k];
    else merged[k] = jsonRoundTrip(v);
  }
  if (dataBytes(merged) > MAX_DATA_BYTES) return { code: 'SESSION_DATA_TOO_LARGE' };
  const keys = Object.keys(merged).length;
  if (keys > MAX_DATA_KEYS && keys > Object.keys(session.data).length)
    return { code: 'SESSION_DATA_TOO_MANY_KEYS' };
  return { code: 'ok', data: merged };
}

/** A patch whose values are all undefined: no key at all (fine for create, refused by update). */
const isEmptyPatch = (patch: Record<string, unknown>) =>
  Object.values(patch).every((v) => v === undefined);

function expectedCreate(user: number | string, change: PatchCase): string {
  if (typeof user === 'string') return 'INVALID_USER_ID';
  if (change.kind === 'bad') return isEmptyPatch(change.patch) ? 'ok' : change.code;
  return dataBytes(initialData(change.patch)) > MAX_DATA_BYTES ? 'SESSION_DATA_TOO_LARGE' : 'ok';
}

function initialData(patch: Data): Data {
  return jsonRoundTrip(Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== null)));
}

function newModelSession(
  userId: string,
  created: { sessionId: string; token: string },
  data: Data,
  t: [number, number],
  absoluteAt: [number, number],
): ModelSession {
  return {
    userId,
    sessionId: created.sessionId,
    token: created.token,
    data,
    stored: true,
    live: true,
    lastAccess: t,
    absoluteAt,
  };
}

// ---------------------------------------------------------------------------------------------
// Commands without time

type Cmd = fc.AsyncCommand<Model, Real>;

function commands(tally: Tally): fc.Arbitrary<Cmd>[] {
  const userIndex = fc.nat({ max: 3 });
  const ref = fc.nat();

  class Create implements Cmd {
    constructor(
      readonly user: number | string,
      readonly change: PatchCase,
    ) {}
    check = () => true;
    async run(model: Model, real: Real) {
      const userId = typeof this.user === 'string' ? this.user : real.users[this.user];
      const result = await codeOf(() => real.service.create(userId, this.change.patch as Data));
      expect(result.code).toBe(expectedCreate(this.user, this.change));
      tally.count('create', `create:${result.code}`);
      if (result.value) {
        const t = Date.now();
        model.sessions.push(
          newModelSession(
            userId,
            result.value,
            this.change.kind === 'ok' ? initialData(this.change.patch) : {},
            [t, t],
            [t, t],
          ),
        );
      }
    }
    toString = () => `create(${JSON.stringify(this.user)}, ${JSON.stringify(this.change.patch)})`;
  }

  class Validate implements Cmd {
    constructor(
      readonly ref: number,
      readonly variant: 'token' | 'tampered' | number,
    ) {}
    check = (m: Readonly<Model>) => m.sessions.length > 0 || typeof this.variant === 'number';
    async run(model: Model, real: Real) {
      if (typeof this.variant === 'number') {
        const token = MALFORMED_TOKENS[this.variant % MALFORMED_TOKENS.length];
        expect(await real.service.verify(token)).toEqual({ valid: false, reason: 'malformed' });
        expect(await real.service.validate(token)).toBeNull();
        tally.count('validate', 'validate:malformed');
        return;
      }
      const session = pick(model, this.ref);
      if (this.variant === 'tampered') {
        const result = await real.service.verify(tamper(session.token));
        expect(result).toEqual({
          valid: false,
          reason: session.stored ? 'bad_secret' : 'unknown',
        });
        tally.count('validate', `validate:${result.valid ? 'valid' : result.reason}`);
        return;
      }
      const result = await real.service.verify(session.token);
      checkValidation(result, session, expectedValidation(session));
      tally.count('validate', `validate:${result.valid ? 'valid' : result.reason}`);
    }
    toString = () => `validate(#${this.ref}, ${this.variant})`;
  }

  class Update implements Cmd {
    constructor(
      readonly ref: number,
      readonly change: PatchCase,
      readonly badId: number | null,
    ) {}
    check = (m: Readonly<Model>) => m.sessions.length > 0;
    async run(model: Model, real: Real) {
      const session = pick(model, this.ref);
      if (this.badId !== null) {
        const id = MALFORMED_SESSION_IDS[this.badId % MALFORMED_SESSION_IDS.length];
        const result = await codeOf(() => real.service.update(id, { a: 1 }));
        expect(result.code).toBe('INVALID_SESSION_ID');
        tally.count('update', `update:${result.code}`);
        return;
      }
      const expected = expectedUpdate(session, this.change);
      const result = await codeOf(() =>
        real.service.update(session.sessionId, this.change.patch as Data),
      );
      expect(result.code).toBe(expected.code);
      if (expected.data) {
        expect(result.value).toEqual(expected.data);
        session.data = expected.data;
      }
      tally.count('update', `update:${result.code}`);
    }
    toString = () =>
      this.badId !== null
        ? `update(malformed id ${this.badId})`
        : `update(#${this.ref}, ${JSON.stringify(this.change.patch)})`;
  }

  class Rotate implements Cmd {
    constructor(
      readonly ref: number,
      readonly variant: 'token' | 'tampered' | 'malformed',
    ) {}
    check = (m: Readonly<Model>) => m.sessions.length > 0;
    async run(model: Model, real: Real) {
      const session = pick(model, this.ref);
      const token =
        this.variant === 'token'
          ? session.token
          : this.variant === 'tampered'
            ? tamper(session.token)
            : session.token.slice(0, -1);
      const result = await codeOf(() => real.service.rotate(token));
      const expected =
        this.variant === 'malformed'
          ? 'INVALID_TOKEN'
          : this.variant === 'tampered' || !session.stored || !session.live
            ? 'SESSION_NOT_FOUND'
            : 'ok';
      expect(result.code).toBe(expected);
      tally.count('rotate', `rotate:${result.code}`);
      if (!result.value) return;
      expect(result.value.previousSessionId).toBe(session.sessionId);
      expect(result.value.sessionId).not.toBe(session.sessionId);
      session.stored = false;
      session.live = false;
      model.sessions.push({
        ...session,
        sessionId: result.value.sessionId,
        token: result.value.token,
        stored: true,
        live: true,
      });
    }
    toString = () => `rotate(#${this.ref}, ${this.variant})`;
  }

  class Revoke implements Cmd {
    constructor(
      readonly ref: number,
      readonly asUser: 'any' | 'owner' | number,
      readonly badId: number | null,
    ) {}
    check = (m: Readonly<Model>) => m.sessions.length > 0;
    async run(model: Model, real: Real) {
      if (this.badId !== null) {
        const id = MALFORMED_SESSION_IDS[this.badId % MALFORMED_SESSION_IDS.length];
        const result = await codeOf(() => real.service.revoke(id));
        expect(result.code).toBe('INVALID_SESSION_ID');
        tally.count('revoke', `revoke:${result.code}`);
        return;
      }
      const session = pick(model, this.ref);
      const userId =
        this.asUser === 'any'
          ? undefined
          : this.asUser === 'owner'
            ? session.userId
            : real.users[this.asUser];
      const result = await codeOf(() =>
        real.service.revoke(session.sessionId, 'revoked', userId === undefined ? {} : { userId }),
      );
      const expected = session.stored && (userId === undefined || userId === session.userId);
      expect(result).toEqual({ code: 'ok', value: expected });
      if (expected) {
        session.stored = false;
        session.live = false;
      }
      tally.count('revoke', `revoke:${String(result.value)}`);
    }
    toString = () => `revoke(#${this.ref}, as ${this.asUser}, badId ${this.badId})`;
  }

  class RevokeAll implements Cmd {
    constructor(readonly user: number | string) {}
    check = () => true;
    async run(model: Model, real: Real) {
      const userId = typeof this.user === 'string' ? this.user : real.users[this.user];
      const result = await codeOf(() => real.service.revokeAllForUser(userId));
      if (typeof this.user === 'string') {
        expect(result.code).toBe('INVALID_USER_ID');
      } else {
        // The count comes from the worker's index, which no worker fills in this test.
        expect(result).toEqual({ code: 'ok', value: 0 });
        for (const s of model.sessions) if (s.userId === userId) s.live = false;
      }
      tally.count('revokeAll', `revokeAll:${result.code}`);
    }
    toString = () => `revokeAll(${JSON.stringify(this.user)})`;
  }

  class RevokeOthers implements Cmd {
    constructor(
      readonly user: number | 'owner',
      readonly keepRef: number,
      readonly badId: number | null,
    ) {}
    check = (m: Readonly<Model>) => m.sessions.length > 0;
    async run(model: Model, real: Real) {
      const userId =
        this.user === 'owner' ? pick(model, this.keepRef).userId : real.users[this.user];
      if (this.badId !== null) {
        const id = MALFORMED_SESSION_IDS[this.badId % MALFORMED_SESSION_IDS.length];
        const result = await codeOf(() => real.service.revokeOthers(userId, id));
        expect(result.code).toBe('INVALID_SESSION_ID');
        tally.count('revokeOthers', `revokeOthers:${result.code}`);
        return;
      }
      const keep = pick(model, this.keepRef);
      const result = await codeOf(() => real.service.revokeOthers(userId, keep.sessionId));
      const ok = keep.userId === userId && keep.stored && keep.live;
      expect(result).toEqual(ok ? { code: 'ok', value: 0 } : { code: 'SESSION_NOT_FOUND' });
      if (ok) for (const s of model.sessions) if (s.userId === userId && s !== keep) s.live = false;
      tally.count(
        'revokeOthers',
        `revokeOthers:${result.code}${ok ? '' : keep.userId === userId ? ':dead-keep' : ':other-user'}`,
      );
    }
    toString = () => `revokeOthers(user ${this.user}, keep #${this.keepRef}, badId ${this.badId})`;
  }

  // Mostly real session ids; now and then a malformed one.
  const badId = fc.oneof({ weight: 9, arbitrary: fc.constant(null) }, fc.nat());
  const [create, validate, update, rotate, revoke, revokeAll, revokeOthers] = [
    fc
      .tuple(
        fc.oneof(
          { weight: 9, arbitrary: userIndex },
          { weight: 1, arbitrary: fc.constantFrom(...BAD_USER_IDS) },
        ),
        patchCase,
      )
      .map(([u, c]) => new Create(u, c)),
    fc
      .tuple(
        ref,
        fc.oneof(
          { weight: 6, arbitrary: fc.constant('token' as const) },
          fc.constant('tampered' as const),
          fc.nat(),
        ),
      )
      .map(([r, v]) => new Validate(r, v)),
    fc.tuple(ref, patchCase, badId).map(([r, c, b]) => new Update(r, c, b)),
    fc
      .tuple(
        ref,
        fc.oneof(
          { weight: 4, arbitrary: fc.constant('token' as const) },
          fc.constantFrom('tampered' as const, 'malformed' as const),
        ),
      )
      .map(([r, v]) => new Rotate(r, v)),
    fc
      .tuple(ref, fc.oneof(fc.constantFrom('any' as const, 'owner' as const), userIndex), badId)
      .map(([r, u, b]) => new Revoke(r, u, b)),
    fc
      .oneof(
        { weight: 9, arbitrary: userIndex },
        { weight: 1, arbitrary: fc.constantFrom(...BAD_USER_IDS) },
      )
      .map((u) => new RevokeAll(u)),
    fc
      .tuple(
        fc.oneof({ weight: 3, arbitrary: fc.constant('owner' as const) }, userIndex),
        ref,
        badId,
      )
      .map(([u, r, b]) => new RevokeOthers(u, r, b)),
  ];
  // fc.commands picks uniformly among the arbitraries: repeat the common operations.
  return [
    create,
    create,
    validate,
    validate,
    validate,
    update,
    update,
    rotate,
    revoke,
    revokeAll,
    revokeOthers,
  ];
}

// ---------------------------------------------------------------------------------------------
// Time passing: idle TTL 2 s, absolute 4 s, a touch on every validation, no L1 cache.

const IDLE_MS = 2000;
const ABSOLUTE_MS = 4000;
/** Clock granularity and scheduling slack around an expiry instant. */
const MARGIN_MS = 40;
/** Sleep per run, so the property stays within its time budget. */
const SLEEP_BUDGET_MS = 3500;

/** Expiry instant bounds: min(last access + idle, absolute). */
function expiryBounds(session: ModelSession): [number, number] {
  return [
    Math.min(session.lastAccess[0] + IDLE_MS, session.absoluteAt[0]),
    Math.min(session.lastAccess[1] + IDLE_MS, session.absoluteAt[1]),
  ];
}

/** Whether the session is alive for a call made during [t0, t1]: true, false or 'either'. */
function aliveDuring(session: ModelSession, t0: number, t1: number): boolean | 'either' {
  if (!session.stored) return false;
  const [low, high] = expiryBounds(session);
  if (t1 < low - MARGIN_MS) return true;
  if (t0 > high + MARGIN_MS) return false;
  return 'either';
}

const EXPIRED_REASONS = ['unknown', 'idle_expired', 'absolute_expired'];

/** Validates and checks the answer against the model; a valid answer touches the session. */
async function timedValidate(session: ModelSession, real: Real, tally: Tally, label: string) {
  const t0 = Date.now();
  const result = await real.service.verify(session.token);
  const t1 = Date.now();
  const expected = aliveDuring(session, t0, t1);
  const context = `${label}: session ${session.sessionId} (call ${t0}..${t1}, expiry ${expiryBounds(session).join('..')})`;
  if (result.valid) {
    if (expected === false) throw new Error(`${context} was accepted after its expiry`);
    expect(result.session.data).toEqual(session.data);
    session.lastAccess = [t0, t1];
    tally.count(label, `${label}:valid${expected === 'either' ? '(boundary)' : ''}`);
  } else {
    if (expected === true)
      throw new Error(`${context} was rejected (${result.reason}) while alive`);
    expect(EXPIRED_REASONS).toContain(result.reason);
    if (!session.stored) expect(result.reason).toBe('unknown');
    const byAbsolute = session.absoluteAt[1] <= session.lastAccess[0] + IDLE_MS;
    session.stored = false;
    session.live = false;
    tally.count(label, `${label}:${result.reason}${byAbsolute ? '(absolute)' : ''}`);
  }
}

function timeCommands(tally: Tally): fc.Arbitrary<Cmd>[] {
  const ref = fc.nat();

  class Create implements Cmd {
    constructor(readonly user: number) {}
    check = () => true;
    async run(model: Model, real: Real) {
      const t0 = Date.now();
      const created = await real.service.create(real.users[this.user], { n: 0 });
      const t1 = Date.now();
      expect(created.absoluteExpiresAt - created.createdAt).toBe(ABSOLUTE_MS);
      expect(created.expiresAt - created.createdAt).toBe(IDLE_MS);
      model.sessions.push(
        newModelSession(
          real.users[this.user],
          created,
          { n: 0 },
          [t0, t1],
          [t0 + ABSOLUTE_MS, t1 + ABSOLUTE_MS],
        ),
      );
      tally.count('create', 'create:ok');
    }
    toString = () => `create(user ${this.user})`;
  }

  class Validate implements Cmd {
    constructor(readonly ref: number) {}
    check = (m: Readonly<Model>) => m.sessions.length > 0;
    run = (model: Model, real: Real) =>
      timedValidate(pick(model, this.ref), real, tally, 'validate');
    toString = () => `validate(#${this.ref})`;
  }

  class Update implements Cmd {
    constructor(readonly ref: number) {}
    check = (m: Readonly<Model>) => m.sessions.length > 0;
    async run(model: Model, real: Real) {
      const session = pick(model, this.ref);
      const n = Number(session.data.n) + 1;
      const t0 = Date.now();
      const result = await codeOf(() => real.service.update(session.sessionId, { n }));
      const t1 = Date.now();
      const expected = aliveDuring(session, t0, t1);
      if (expected !== 'either') expect(result.code).toBe(expected ? 'ok' : 'SESSION_NOT_FOUND');
      else expect(['ok', 'SESSION_NOT_FOUND']).toContain(result.code);
      if (result.code === 'ok') {
        expect(result.value).toEqual({ n });
        session.data = { n };
      } else {
        session.stored = false;
        session.live = false;
      }
      tally.count('update', `update:${result.code}`);
    }
    toString = () => `update(#${this.ref})`;
  }

  class Rotate implements Cmd {
    constructor(readonly ref: number) {}
    check = (m: Readonly<Model>) => m.sessions.length > 0;
    async run(model: Model, real: Real) {
      const session = pick(model, this.ref);
      const t0 = Date.now();
      const result = await codeOf(() => real.service.rotate(session.token));
      const t1 = Date.now();
      const expected = aliveDuring(session, t0, t1);
      if (expected !== 'either') expect(result.code).toBe(expected ? 'ok' : 'SESSION_NOT_FOUND');
      else expect(['ok', 'SESSION_NOT_FOUND']).toContain(result.code);
      const wasStored = session.stored;
      session.stored = false;
      session.live = false;
      if (result.value) {
        expect(wasStored).toBe(true);
        expect(result.value.absoluteExpiresAt).toBeGreaterThanOrEqual(session.absoluteAt[0]);
        expect(result.value.absoluteExpiresAt).toBeLessThanOrEqual(session.absoluteAt[1]);
        model.sessions.push({
          ...session,
          sessionId: result.value.sessionId,
          token: result.value.token,
          stored: true,
          live: true,
          lastAccess: [t0, t1],
        });
      }
      tally.count('rotate', `rotate:${result.code}`);
    }
    toString = () => `rotate(#${this.ref})`;
  }

  class Revoke implements Cmd {
    constructor(readonly ref: number) {}
    check = (m: Readonly<Model>) => m.sessions.length > 0;
    async run(model: Model, real: Real) {
      const session = pick(model, this.ref);
      const t0 = Date.now();
      const revoked = await real.service.revoke(session.sessionId);
      const t1 = Date.now();
      // The key expires with the session: it is there (revocable) exactly while it is alive.
      const expected = aliveDuring(session, t0, t1);
      if (expected !== 'either') expect(revoked).toBe(expected);
      session.stored = false;
      session.live = false;
      tally.count('revoke', `revoke:${revoked}`);
    }
    toString = () => `revoke(#${this.ref})`;
  }

  class Sleep implements Cmd {
    constructor(readonly ms: number) {}
    check = (m: Readonly<Model>) => m.sleptMs + this.ms <= SLEEP_BUDGET_MS;
    async run(model: Model) {
      model.sleptMs += this.ms;
      await sleep(this.ms);
      tally.count('sleep', `slept ${this.ms} ms`);
    }
    toString = () => `sleep(${this.ms})`;
  }

  /** Uses every session every 400 ms for a while: sliding expiry keeps them, absolute does not. */
  class KeepAlive implements Cmd {
    constructor(readonly ms: number) {}
    check = (m: Readonly<Model>) => m.sleptMs + this.ms <= SLEEP_BUDGET_MS;
    async run(model: Model, real: Real) {
      model.sleptMs += this.ms;
      const until = Date.now() + this.ms;
      while (Date.now() < until) {
        await sleep(400);
        for (const session of model.sessions.filter((s) => s.stored))
          await timedValidate(session, real, tally, 'keep-alive');
      }
    }
    toString = () => `keepAlive(${this.ms})`;
  }

  const create = fc.nat({ max: 1 }).map((u) => new Create(u));
  const validate = ref.map((r) => new Validate(r));
  return [
    create,
    create,
    validate,
    validate,
    ref.map((r) => new Update(r)),
    ref.map((r) => new Rotate(r)),
    ref.map((r) => new Revoke(r)),
    fc.constantFrom(300, 900, 2100).map((ms) => new Sleep(ms)),
    fc.constantFrom(1200, 2400).map((ms) => new KeepAlive(ms)),
  ];
}

/** After a run: every session the model knows answers as the model says. */
async function checkEverySession(model: Model, real: Real, tally: Tally): Promise<void> {
  for (const session of model.sessions) {
    checkValidation(await real.service.verify(session.token), session, expectedValidation(session));
    tally.count('final-validate', 'final-validate');
  }
}

/**
 * Users for the runs: two that share a partition (so revoke-others across users reaches the
 * script), one in another partition, one with non-ASCII characters.
 */
function chooseUsers(fx: SessionFixture): string[] {
  const keys = fx.service.keys;
  const first = 'alice';
  const candidates = Array.from({ length: 64 }, (_, i) => `user-${i}`);
  const samePartition = candidates.find((u) => keys.partitionOf(u) === keys.partitionOf(first));
  const otherPartition = candidates.find((u) => keys.partitionOf(u) !== keys.partitionOf(first));
  if (!samePartition || !otherPartition) throw new Error('no suitable users');
  return [first, samePartition, otherPartition, 'zoë 🎉 Ünïcode'];
}

describe('Session lifecycle: random command sequences against the real SessionService and a model', () => {
  describe.each([
    { cache: true, numRuns: 250 },
    { cache: false, numRuns: 150 },
  ])('without time passing (L1 cache $cache)', ({ cache, numRuns }) => {
    let fx: SessionFixture;
    let users: string[];

    beforeAll(async () => {
      fx = await createSessionFixture(cache ? 'prop-cache' : 'prop-nocache', {
        streamPartitions: PARTITIONS,
        maxDataBytes: MAX_DATA_BYTES,
        maxDataKeys: MAX_DATA_KEYS,
        cache: { enabled: cache },
      });
      users = chooseUsers(fx);
    });
    afterAll(() => fx?.close());

    it('agrees with the model on every answer: validity and reason, data, counts and typed errors', async () => {
      const tally = new Tally();
      const started = Date.now();
      await fc.assert(
        fc.asyncProperty(
          fc.commands(commands(tally), { maxCommands: 60, size: 'large' }),
          async (cmds) => {
            tally.runs++;
            const model: Model = { sessions: [], sleptMs: 0 };
            const real: Real = { service: fx.service, users };
            await fc.asyncModelRun(() => ({ model, real }), cmds);
            await checkEverySession(model, real, tally);
          },
        ),
        { numRuns, seed, path, verbose: 1 },
      );
      console.log(
        `session lifecycle property (cache ${cache ? 'on' : 'off'}), seed ${seed}: ` +
          `${tally.summary()}\n  in ${Date.now() - started} ms`,
      );
      // The runs must have reached the interesting answers, or the property proved little.
      const needed = [
        'validate:valid',
        'validate:revoked',
        'validate:unknown',
        'validate:bad_secret',
        'update:ok',
        'update:SESSION_NOT_FOUND',
        'update:FORBIDDEN_SESSION_DATA',
        'update:SESSION_DATA_TOO_MANY_KEYS',
        'rotate:ok',
        'revoke:true',
        'revokeAll:ok',
        'revokeOthers:ok',
      ];
      expect(needed.filter((outcome) => !tally.outcomes.has(outcome))).toEqual([]);
    });
  });
  describe('with time passing (idle 2 s, absolute 4 s, touch on every validation)', () => {
    let fx: SessionFixture;
    let users: string[];

    beforeAll(async () => {
      fx = await createSessionFixture('prop-time', {
        streamPartitions: PARTITIONS,
        idleTtlSeconds: IDLE_MS / 1000,
        absoluteTtlSeconds: ABSOLUTE_MS / 1000,
        touchIntervalSeconds: 0,
        cache: { enabled: false },
      });
      users = chooseUsers(fx);
    });
    afterAll(() => fx?.close());

    it('accepts a session exactly while it is within both TTLs, and never after', async () => {
      const tally = new Tally();
      const started = Date.now();
      await fc.assert(
        fc.asyncProperty(
          fc.commands(timeCommands(tally), { maxCommands: 20, size: 'large' }),
          async (cmds) => {
            tally.runs++;
            const model: Model = { sessions: [], sleptMs: 0 };
            const real: Real = { service: fx.service, users };
            // Every run starts with a session, so there is always something to expire.
            const t0 = Date.now();
            const first = await fx.service.create(users[0], { n: 0 });
            const t1 = Date.now();
            model.sessions.push(
              newModelSession(
                users[0],
                first,
                { n: 0 },
                [t0, t1],
                [t0 + ABSOLUTE_MS, t1 + ABSOLUTE_MS],
              ),
            );
            await fc.asyncModelRun(() => ({ model, real }), cmds);
            // Then waits until the model says every session is over, and checks that it is.
            const stored = model.sessions.filter((s) => s.stored);
            const over = Math.max(0, ...stored.map((s) => expiryBounds(s)[1] + MARGIN_MS + 1));
            if (stored.length > 0) await sleep(Math.max(0, over - Date.now()));
            for (const session of model.sessions)
              await timedValidate(session, real, tally, 'final');
            expect(model.sessions.every((s) => !s.stored)).toBe(true);
          },
        ),
        { numRuns: 6, seed, path, verbose: 1, endOnFailure: true },
      );
      console.log(
        `session lifecycle property with time, seed ${seed}: ${tally.summary()}\n  in ${Date.now() - started} ms`,
      );
      const seen = (pattern: RegExp) =>
        [...tally.outcomes.entries()]
          .filter(([k]) => pattern.test(k))
          .reduce((a, [, n]) => a + n, 0);
      expect(seen(/:valid/)).toBeGreaterThan(0);
      expect(seen(/expired|^final:unknown/)).toBeGreaterThan(0);
    });
  });
});
