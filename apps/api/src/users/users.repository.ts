import { Logger } from '@nestjs/common';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../config';
import {
  DEFAULT_SCRYPT_PARAMS,
  hashPasswordSync,
  parsePasswordHash,
  verifyPassword,
} from './password-hash';

export interface UserRecord {
  userId: string;
  passwordHash: string;
  roles: readonly string[];
}

const DEMO_USERS = join('apps', 'api', 'demo-users.json');

/**
 * Where the shipped demo users are: looked for as `apps/api/demo-users.json` in every parent of
 * this file's folder, which finds it both from source (apps/api/src/users under jest or ts-node)
 * and from the build (dist/apps/api/apps/api/src/users), then under the working directory.
 */
export function resolveDemoUsersFile(from = __dirname, cwd = process.cwd()): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, DEMO_USERS);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) break;
  }
  const fromCwd = resolve(cwd, DEMO_USERS);
  return existsSync(fromCwd) ? fromCwd : undefined;
}

function parseUsers(json: unknown, file: string): UserRecord[] {
  const fail = (problem: string) => new ConfigError('USERS_FILE', `${file}: ${problem}`);
  if (!Array.isArray(json)) throw fail('must be a JSON array of { userId, passwordHash, roles }');
  const seen = new Set<string>();
  return json.map((entry: unknown, i): UserRecord => {
    if (typeof entry !== 'object' || entry === null) throw fail(`entry ${i} is not an object`);
    const { userId, passwordHash, roles } = entry as Record<string, unknown>;
    if (typeof userId !== 'string' || userId.length === 0 || userId.length > 256) {
      throw fail(`entry ${i} needs a userId of 1 to 256 characters`);
    }
    if (seen.has(userId)) throw fail(`userId "${userId}" appears twice`);
    seen.add(userId);
    if (typeof passwordHash !== 'string' || !parsePasswordHash(passwordHash)) {
      throw fail(`user "${userId}" has no valid passwordHash (scrypt$N$r$p$saltB64$hashB64)`);
    }
    if (!Array.isArray(roles) || !roles.every((r): r is string => typeof r === 'string')) {
      throw fail(`user "${userId}" needs roles as an array of strings`);
    }
    return { userId, passwordHash, roles: [...roles] };
  });
}

/** The users allowed to log in, loaded once at start-up from a JSON file. */
export class UsersRepository {
  private readonly users: Map<string, UserRecord>;
  /** Checked when the user is unknown, so both failures cost one scrypt. */
  private readonly dummyHash: string;

  constructor(users: readonly UserRecord[]) {
    this.users = new Map(users.map((user) => [user.userId, user]));
    const first = users.length > 0 ? parsePasswordHash(users[0].passwordHash) : null;
    this.dummyHash = hashPasswordSync(
      'dummy-password-for-unknown-users',
      first ? { N: first.N, r: first.r, p: first.p } : DEFAULT_SCRYPT_PARAMS,
    );
  }

  /**
   * Loads USERS_FILE, or the demo users when it is unset (config.ts allows that only with
   * NODE_ENV=development, and it is said at start-up); errors name USERS_FILE.
   */
  static load(usersFile: string | undefined): UsersRepository {
    const file = usersFile ? resolve(usersFile) : resolveDemoUsersFile();
    if (!usersFile && file) {
      new Logger(UsersRepository.name).warn(
        `USERS_FILE unset: the demo users of ${file} can log in (development only)`,
      );
    }
    if (!file) {
      throw new ConfigError(
        'USERS_FILE',
        `is unset and ${DEMO_USERS} was not found: set USERS_FILE`,
      );
    }
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError('USERS_FILE', `cannot read ${file} (${(error as Error).message})`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new ConfigError(
        'USERS_FILE',
        `${file} is not valid JSON (${(error as Error).message})`,
      );
    }
    return new UsersRepository(parseUsers(json, file));
  }

  get size(): number {
    return this.users.size;
  }

  has(userId: string): boolean {
    return this.users.has(userId);
  }

  /** The user when the password matches, else null; same cost for unknown users. */
  async verifyCredentials(userId: string, password: string): Promise<UserRecord | null> {
    const user = this.users.get(userId);
    const matches = await verifyPassword(password, user?.passwordHash ?? this.dummyHash);
    return user && matches ? user : null;
  }
}
