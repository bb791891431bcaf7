/**
 * The api's configuration: read from the environment once at start-up and validated, every error
 * naming the variable that is wrong. `CONFIG_VARIABLES` lists every variable read here with its
 * default, so deployment files (docker-compose.yml) can be checked against it.
 */
import {
  ConfigError,
  type ConfigVariable,
  type Env,
  EnvReader,
  readSessionEnv,
  SESSION_ENV_VARIABLES,
  type SessionEnvConfig,
} from '@app/config';
import type { EndpointAccess } from './http/endpoint-access';
import { HTTP_ADAPTER_NAMES, type HttpAdapterName } from './http/http-adapter-name';
import { parseTrustProxy, type TrustProxy } from './http/trust-proxy';

export { ConfigError, LOG_LEVELS, type LogLevel } from '@app/config';

export interface ApiConfig extends SessionEnvConfig {
  nodeEnv: string;
  port: number;
  /** Which Nest HTTP adapter serves the api (same routes and behaviour on both). */
  httpAdapter: HttpAdapterName;
  cookieSecure: boolean;
  /** Path of the users file; undefined = the shipped demo users (NODE_ENV=development only). */
  usersFile: string | undefined;
  /** Failed logins per minute per address and per user id from one address; 0 = off. */
  loginRateLimit: number;
  /** Failed logins per minute per user id from all addresses together; 0 = no ceiling. */
  loginUserFailureLimit: number;
  /** Express's `trust proxy`: which hops' X-Forwarded-For to believe for the client address. */
  trustProxy: TrustProxy;
  /** /docs (Swagger UI, /docs-json): off, open or behind a token. */
  docs: EndpointAccess;
  /** /metrics (Prometheus): off, open or behind a token. */
  metrics: EndpointAccess;
  /** Session-changing requests per minute per session; 0 = off. */
  sessionWriteRateLimit: number;
  /** Largest request body accepted, in bytes (compressed bodies are refused). */
  bodyLimitBytes: number;
  /** Origins besides the api's own from which browsers may log in and write with the cookie. */
  allowedOrigins: string[];
  /** The api exits within this after SIGTERM/SIGINT; in-flight requests get most of it. */
  shutdownTimeoutMs: number;
  /** After SIGTERM/SIGINT, serving on with /health/ready 503 this long before closing (part of
   * shutdownTimeoutMs). */
  shutdownDelayMs: number;
}

/** Every environment variable the api reads, with its default. */
export const CONFIG_VARIABLES: readonly ConfigVariable[] = [
  {
    name: 'NODE_ENV',
    default: undefined,
    description: 'development turns the Secure cookie flag off by default',
  },
  { name: 'PORT', default: '3000', description: 'HTTP port' },
  {
    name: 'HTTP_ADAPTER',
    default: 'fastify',
    description:
      'fastify or express: the Nest HTTP adapter (same api on both; fastify is the faster: see README)',
  },
  ...SESSION_ENV_VARIABLES,
  {
    name: 'SESSION_COOKIE_SECURE',
    default: 'true',
    description: 'Secure cookie flag; default false when NODE_ENV=development',
  },
  {
    name: 'USERS_FILE',
    default: undefined,
    description: 'JSON users file; required unless NODE_ENV=development (then the demo users)',
  },
  {
    name: 'LOGIN_RATE_LIMIT',
    default: '10',
    description: 'failed logins per minute per address, and per user id from one address (0 = off)',
  },
  {
    name: 'LOGIN_USER_FAILURE_LIMIT',
    default: undefined,
    description:
      'failed logins per minute per user id from all addresses (default 10 × LOGIN_RATE_LIMIT; 0 = no ceiling); must be over 2 × LOGIN_RATE_LIMIT',
  },
  {
    name: 'TRUST_PROXY',
    default: 'false',
    description:
      'proxies whose X-Forwarded-For gives the client address: a hop count or addresses/CIDRs (loopback, 10.0.0.0/8, …)',
  },
  {
    name: 'DOCS_ENABLED',
    default: undefined,
    description: 'serve /docs and /docs-json (default true only when NODE_ENV=development)',
  },
  {
    name: 'DOCS_TOKEN',
    default: undefined,
    description: 'when set, /docs needs it (Bearer, or Basic auth password); ≥ 16 characters',
  },
  { name: 'METRICS_ENABLED', default: 'true', description: 'serve /metrics' },
  {
    name: 'METRICS_TOKEN',
    default: undefined,
    description: 'when set, /metrics needs it (Bearer, or Basic auth password); ≥ 16 characters',
  },
  {
    name: 'SESSION_WRITE_RATE_LIMIT',
    default: '60',
    description:
      'session-changing requests (update, rotate, revoke…) per minute per session; 429 beyond (0 = off)',
  },
  {
    name: 'BODY_LIMIT_BYTES',
    default: '32768',
    description: 'largest JSON body accepted (413 beyond); compressed bodies are refused (415)',
  },
  {
    name: 'SHUTDOWN_TIMEOUT_MS',
    default: '8000',
    description:
      'the api exits within this after SIGTERM/SIGINT (inside Docker’s 10 s grace); in-flight requests get most of it',
  },
  {
    name: 'SHUTDOWN_DELAY_MS',
    default: '0',
    description:
      'after SIGTERM/SIGINT the api keeps serving this long with /health/ready answering 503, so a load balancer stops routing to it before it closes (Kubernetes: a few seconds); part of SHUTDOWN_TIMEOUT_MS, at most half of it',
  },
  {
    name: 'ALLOWED_ORIGINS',
    default: undefined,
    description:
      'origins (https://app.example.com,…) besides the api’s own allowed to log in and write with the cookie',
  },
];

export const CONFIG_VARIABLE_NAMES: readonly string[] = CONFIG_VARIABLES.map((v) => v.name);

/**
 * The demo users (admin/admin-demo-pass…) are public knowledge: they may only be served when the
 * operator asked for development, never because a variable was forgotten in production.
 */
function usersFile(reader: EnvReader, nodeEnv: string): string | undefined {
  const file = reader.string('USERS_FILE');
  if (file === undefined && nodeEnv !== 'development') {
    throw new ConfigError(
      'USERS_FILE',
      'is required unless NODE_ENV=development (the demo users are for development only): set USERS_FILE to a JSON users file (see README, npm run hash-password)',
    );
  }
  return file;
}

/** Parses and validates the environment; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): ApiConfig {
  const reader = new EnvReader(env, CONFIG_VARIABLES);
  const nodeEnv = reader.string('NODE_ENV') ?? 'production';
  return {
    ...readSessionEnv(reader),
    nodeEnv,
    port: reader.integer('PORT', 0, 65_535),
    httpAdapter: reader.oneOf('HTTP_ADAPTER', HTTP_ADAPTER_NAMES),
    cookieSecure: reader.boolean('SESSION_COOKIE_SECURE', nodeEnv !== 'development'),
    usersFile: usersFile(reader, nodeEnv),
    ...loginLimits(reader),
    trustProxy: trustProxy(reader),
    docs: endpointAccess(reader, 'DOCS', nodeEnv === 'development'),
    metrics: endpointAccess(reader, 'METRICS', true),
    allowedOrigins: allowedOrigins(reader),
    sessionWriteRateLimit: reader.integer('SESSION_WRITE_RATE_LIMIT', 0, 1_000_000),
    bodyLimitBytes: reader.integer('BODY_LIMIT_BYTES', 1024, 10 * 1024 * 1024),
    ...shutdownTimes(reader),
  };
}

/** The delay comes out of the timeout, and must leave the drain most of it. */
function shutdownTimes(reader: EnvReader): { shutdownTimeoutMs: number; shutdownDelayMs: number } {
  const shutdownTimeoutMs = reader.integer('SHUTDOWN_TIMEOUT_MS', 1000, 600_000);
  const shutdownDelayMs = reader.integer('SHUTDOWN_DELAY_MS', 0, 300_000);
  if (shutdownDelayMs > shutdownTimeoutMs / 2) {
    throw new ConfigError(
      'SHUTDOWN_DELAY_MS',
      `must be at most half of SHUTDOWN_TIMEOUT_MS (${shutdownTimeoutMs}), got ${shutdownDelayMs}`,
    );
  }
  return { shutdownTimeoutMs, shutdownDelayMs };
}

/** Each as a browser sends it in `Origin`: scheme://host[:port], lower case, no path. */
function allowedOrigins(reader: EnvReader): string[] {
  const list = reader.string('ALLOWED_ORIGINS');
  if (list === undefined) return [];
  return list.split(',').map((item) => {
    let url: URL | undefined;
    try {
      url = new URL(item.trim());
    } catch {
      url = undefined;
    }
    if (
      !url ||
      !/^https?:$/.test(url.protocol) ||
      url.origin.toLowerCase() !== item.trim().toLowerCase()
    ) {
      throw new ConfigError(
        'ALLOWED_ORIGINS',
        `must be comma-separated origins such as https://app.example.com (scheme, host, optional port; no path) (got ${JSON.stringify(item.trim())})`,
      );
    }
    return url.origin.toLowerCase();
  });
}

const ACCESS_TOKEN = /^[\x21-\x7e]{16,256}$/;

function endpointAccess(
  reader: EnvReader,
  name: 'DOCS' | 'METRICS',
  enabledByDefault: boolean,
): EndpointAccess {
  if (!reader.boolean(`${name}_ENABLED`, enabledByDefault)) return { enabled: false };
  const token = reader.string(`${name}_TOKEN`);
  if (token !== undefined && !ACCESS_TOKEN.test(token)) {
    throw new ConfigError(
      `${name}_TOKEN`,
      'must be 16 to 256 printable characters without spaces (e.g. openssl rand -base64 32)',
    );
  }
  return { enabled: true, token };
}

/** A per-user ceiling one address could reach alone would let it lock the user out again. */
function loginLimits(
  reader: EnvReader,
): Pick<ApiConfig, 'loginRateLimit' | 'loginUserFailureLimit'> {
  const loginRateLimit = reader.integer('LOGIN_RATE_LIMIT', 0, 1_000_000);
  const loginUserFailureLimit =
    reader.string('LOGIN_USER_FAILURE_LIMIT') === undefined
      ? 10 * loginRateLimit
      : reader.integer('LOGIN_USER_FAILURE_LIMIT', 0, 100_000_000);
  if (
    loginRateLimit > 0 &&
    loginUserFailureLimit > 0 &&
    loginUserFailureLimit <= 2 * loginRateLimit
  ) {
    throw new ConfigError(
      'LOGIN_USER_FAILURE_LIMIT',
      `must be over 2 × LOGIN_RATE_LIMIT (${2 * loginRateLimit}) so that one address cannot reach it, or 0 (got ${loginUserFailureLimit})`,
    );
  }
  return { loginRateLimit, loginUserFailureLimit };
}

function trustProxy(reader: EnvReader): TrustProxy {
  const parsed = parseTrustProxy(reader.string('TRUST_PROXY'));
  if (parsed === null) {
    throw new ConfigError(
      'TRUST_PROXY',
      `must be false, a hop count or a comma-separated list of addresses/CIDRs (loopback, linklocal, uniquelocal allowed); true is refused as it lets any client pick its address (got ${JSON.stringify(reader.string('TRUST_PROXY'))})`,
    );
  }
  return parsed;
}
