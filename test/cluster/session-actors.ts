/**
 * Users driving the api while the cluster under it changes: each actor is one user doing one
 * request at a time (validate, update, log in, log out, list) against a random api instance, and
 * remembers what the service acknowledged, so that afterwards every acknowledged fact can be
 * checked: live sessions still validate on every instance, with the data last written.
 */

export interface TrackedSession {
  sessionId: string;
  token: string;
  /** Highest `n` the api acknowledged writing into the session's data. */
  ackedN: number;
  /** Highest `n` sent, acknowledged or not (an unanswered write may still have applied). */
  triedN: number;
  /** When the login was acknowledged (ms since epoch). */
  createdAt: number;
  /** When the last update was acknowledged. */
  ackedAt: number;
  /** A probe is never logged out by the load: it must survive every phase. */
  probe: boolean;
}

export interface ActorUser {
  userId: string;
  password: string;
}

type Op = 'me' | 'patch' | 'login' | 'logout' | 'list';
const WEIGHTS: [Op, number][] = [
  ['me', 40],
  ['patch', 25],
  ['login', 12],
  ['logout', 8],
  ['list', 15],
];

/** Every answer of one phase, by status, and what should not have happened. */
export class PhaseRecord {
  readonly statuses = new Map<number, number>();
  readonly problems: string[] = [];
  /**
   * Set just before a master is killed, once its replica has caught up: what is acknowledged
   * after it may be lost with the master (Redis replicates asynchronously).
   */
  lossWindowStart = Infinity;
  /** Sessions acknowledged inside the loss window and then unknown to the new master. */
  readonly lostInWindow: string[] = [];
  requests = 0;
  logins = 0;
  logouts = 0;
  patches = 0;

  constructor(
    readonly name: string,
    /** Whether 503 (store unavailable) is an acceptable answer in this phase. */
    readonly allow503: boolean,
  ) {}

  count(status: number): number {
    return this.statuses.get(status) ?? 0;
  }

  summary(): string {
    const statuses = [...this.statuses.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([status, n]) => `${status}×${n}`)
      .join(' ');
    return `${this.name}: ${this.requests} requests (${statuses}), ${this.logins} logins, ${this.logouts} logouts, ${this.patches} updates`;
  }
}

export class SessionActor {
  /** Sessions the service acknowledged and did not end (as far as the actor knows). */
  readonly live = new Map<string, TrackedSession>();
  /** Sessions whose logout got no clear answer: alive or not, both are correct. */
  readonly uncertain = new Set<string>();
  private counter = 0;

  constructor(
    readonly user: ActorUser,
    private readonly baseUrls: string[],
  ) {}

  async login(baseUrl = this.anyUrl(), probe = false, record?: PhaseRecord): Promise<number> {
    const response = await this.send(record, 'login', `${baseUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(this.user),
    });
    if (response?.status === 201) {
      const { sessionId, token } = response.body as { sessionId: string; token: string };
      this.live.set(sessionId, {
        sessionId,
        token,
        ackedN: 0,
        triedN: 0,
        createdAt: Date.now(),
        ackedAt: 0,
        probe,
      });
      if (record) record.logins++;
    }
    return response?.status ?? 0;
  }

  /** One random request; the phase records its answer and any answer it should not have been. */
  async step(record: PhaseRecord): Promise<void> {
    const op = pick();
    const sessions = [...this.live.values()];
    const session = sessions[Math.floor(Math.random() * sessions.length)];
    if (op === 'login' || !session) {
      await this.login(this.anyUrl(), false, record);
      return;
    }
    const auth = { authorization: `Bearer ${session.token}` };
    const base = this.anyUrl();
    if (op === 'me') {
      const response = await this.send(record, op, `${base}/auth/me`, { headers: auth });
      if (response?.status === 200) this.checkData(record, session, response.body);
      else if (response) this.unexpected(record, op, session, response.status);
    } else if (op === 'patch') {
      const n = ++this.counter;
      session.triedN = n;
      const response = await this.send(record, op, `${base}/sessions/current`, {
        method: 'PATCH',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ data: { n } }),
      });
      if (response?.status === 200) {
        session.ackedN = n;
        session.ackedAt = Date.now();
        record.patches++;
        const data = (response.body as { data?: { n?: number } }).data;
        if (data?.n !== n) record.problems.push(`patch ${n} answered data ${JSON.stringify(data)}`);
      } else if (response) this.unexpected(record, op, session, response.status);
    } else if (op === 'logout') {
      if (session.probe) return;
      const response = await this.send(record, op, `${base}/auth/logout`, {
        method: 'POST',
        headers: auth,
      });
      this.live.delete(session.sessionId);
      if (response?.status === 204) record.logouts++;
      else {
        this.uncertain.add(session.sessionId);
        if (response) this.unexpected(record, op, session, response.status);
      }
    } else {
      const response = await this.send(record, op, `${base}/sessions`, { headers: auth });
      if (response && response.status !== 200)
        this.unexpected(record, op, session, response.status);
    }
  }

  private checkData(record: PhaseRecord, session: TrackedSession, body: unknown): void {
    const n = (body as { data?: { n?: number } }).data?.n ?? 0;
    // A cached copy may trail a write made through the other instance by the propagation delay,
    // so only "older than what this instance itself was told" would be wrong; the final check
    // (after the load) is exact.
    if (n > session.triedN)
      record.problems.push(`session ${session.sessionId} shows n=${n} never written`);
  }

  private unexpected(record: PhaseRecord, op: Op, session: TrackedSession, status: number): void {
    if (status === 503 && record.allow503) return;
    if (status === 401 && session.createdAt > record.lossWindowStart) {
      record.lostInWindow.push(session.sessionId);
      this.live.delete(session.sessionId);
      return;
    }
    record.problems.push(
      `${op} of ${session.probe ? 'probe ' : ''}session ${session.sessionId} (${this.user.userId}) answered ${status}`,
    );
  }

  private async send(
    record: PhaseRecord | undefined,
    op: Op,
    url: string,
    init: RequestInit,
  ): Promise<{ status: number; body: unknown } | undefined> {
    let status: number;
    let text: string;
    try {
      const response = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
      status = response.status;
      text = await response.text();
    } catch (error) {
      record?.problems.push(`${op}: no answer (${(error as Error).message})`);
      return undefined;
    }
    if (!record) return { status, body: safeJson(text) };
    record.requests++;
    record.statuses.set(status, (record.statuses.get(status) ?? 0) + 1);
    if (status >= 500 && !(status === 503 && record.allow503))
      record.problems.push(`${op} → ${status}: ${text.slice(0, 300)}`);
    if (status === 503) {
      const body = safeJson(text) as { statusCode?: number; error?: string } | undefined;
      if (body?.statusCode !== 503 || body.error !== 'Service Unavailable')
        record.problems.push(`503 without its JSON body: ${text.slice(0, 200)}`);
    }
    return { status, body: safeJson(text) };
  }

  private anyUrl(): string {
    return this.baseUrls[Math.floor(Math.random() * this.baseUrls.length)];
  }
}

function pick(): Op {
  let roll = Math.random() * WEIGHTS.reduce((sum, [, w]) => sum + w, 0);
  for (const [op, weight] of WEIGHTS) {
    roll -= weight;
    if (roll < 0) return op;
  }
  return 'me';
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Runs every actor in its own loop until `stop()`; returns the phase's record. */
export function runActors(actors: SessionActor[], record: PhaseRecord): { stop(): Promise<void> } {
  let running = true;
  const loops = actors.map(async (actor) => {
    while (running) {
      await actor.step(record);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}
