import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import { freePort } from '../support/free-port';
import { CONFIG_VARIABLE_NAMES, CONFIG_VARIABLES } from '../../apps/api/src/config';
import { WORKER_CONFIG_VARIABLES } from '../../apps/worker/src/worker.config';

/**
 * No Docker engine runs here, so docker-compose.yml and the Dockerfile are checked against the
 * code instead: every variable they set is one the app reads, ports and health checks agree, and
 * the commands start files the build produces.
 */
const ROOT = join(__dirname, '..', '..');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  stop_grace_period?: string;
  secrets?: string[];
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file?: string }>;
};
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const nginx = readFileSync(join(ROOT, 'deploy', 'nginx.conf'), 'utf8');
const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
const nestCli = JSON.parse(readFileSync(join(ROOT, 'nest-cli.json'), 'utf8')) as {
  projects: Record<string, { sourceRoot: string; entryFile: string }>;
};

/** Where `nest build <project>` puts the entry file (tsc builder keeps the source tree). */
function builtEntry(project: string): string {
  const { sourceRoot, entryFile } = nestCli.projects[project];
  return `dist/apps/${project}/${sourceRoot}/${entryFile}.js`;
}

const apis = ['api-1', 'api-2'];
const workers = ['worker-1', 'worker-2'];
const workerVariables = WORKER_CONFIG_VARIABLES.map((v) => v.name);

/** A compose duration ('10s', '1m30s', '500ms') in ms. */
function durationMs(value: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  expect(parts.map((p) => p[0]).join('')).toBe(value);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * units[unit], 0);
}

/** The default of a variable as the app's config table lists it. */
function defaultOf(variables: readonly { name: string; default?: string }[], name: string): string {
  const found = variables.find((v) => v.name === name);
  if (found?.default === undefined) throw new Error(`${name} has no default`);
  return found.default;
}

/**
 * The shutdown timeout a service runs with must fit in its stop grace period (Docker's SIGKILL
 * comes after it), with a margin of at least 1 s and at most 5 s (a long grace only delays a
 * deploy when the process has already given up).
 */
function expectGraceFits(service: Service, timeoutMs: number): void {
  const graceMs = durationMs(service.stop_grace_period ?? '10s');
  expect({
    timeoutMs,
    graceMs,
    fits: graceMs - timeoutMs >= 1000 && graceMs - timeoutMs <= 5000,
  }).toEqual({ timeoutMs, graceMs, fits: true });
}

describe('docker-compose.yml agrees with the code', () => {
  it('has Redis 7 with persistence, two api replicas and two worker replicas', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'api-1',
      'api-2',
      'proxy',
      'redis',
      'worker-1',
      'worker-2',
    ]);
    const redis = compose.services.redis;
    expect(redis.image).toMatch(/^redis:7/);
    expect(redis.command?.join(' ')).toContain('--appendonly yes');
    expect(redis.volumes?.some((v) => v.endsWith(':/data'))).toBe(true);
    expect(redis.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(Object.keys(compose.volumes ?? {})).toContain('redis-data');
  });

  it.each(apis)(
    '%s sets only variables the api reads, and its port, health check and command agree',
    (name) => {
      const api = compose.services[name];
      const env = api.environment ?? {};
      for (const variable of Object.keys(env)) expect(CONFIG_VARIABLE_NAMES).toContain(variable);
      const port = env.PORT;
      // Reached only through the proxy, whose one hop of X-Forwarded-For it trusts.
      expect(api.ports ?? []).toEqual([]);
      expect(env.TRUST_PROXY).toBe('1');
      expect(nginx).toContain(`server ${name}:${port}`);
      // Readiness: the proxy waits for it (depends_on … service_healthy).
      expect(api.healthcheck?.test.join(' ')).toContain(`http://127.0.0.1:${port}/health/ready`);
      expect(api.healthcheck?.test.slice(0, 2)).toEqual(['CMD', 'node']);
      const timeoutMs = Number(
        env.SHUTDOWN_TIMEOUT_MS ?? defaultOf(CONFIG_VARIABLES, 'SHUTDOWN_TIMEOUT_MS'),
      );
      expectGraceFits(api, timeoutMs);
      expect(env.REDIS_URL).toBe('redis://redis:6379');
      expect(api.depends_on?.redis.condition).toBe('service_healthy');
      expect(api.command).toEqual(['node', builtEntry('api')]);
    },
  );

  it.each(workers)(
    '%s sets only variables the worker reads, and its port, health check and command agree',
    (name) => {
      const worker = compose.services[name];
      const env = worker.environment ?? {};
      for (const variable of Object.keys(env)) expect(workerVariables).toContain(variable);
      expect(worker.healthcheck?.test.join(' ')).toContain(
        `http://127.0.0.1:${env.WORKER_PORT}/health/ready`,
      );
      expect(worker.healthcheck?.test.slice(0, 2)).toEqual(['CMD', 'node']);
      const timeoutMs = Number(
        env.WORKER_SHUTDOWN_TIMEOUT_MS ??
          defaultOf(WORKER_CONFIG_VARIABLES, 'WORKER_SHUTDOWN_TIMEOUT_MS'),
      );
      expectGraceFits(worker, timeoutMs);
      expect(worker.depends_on?.redis.condition).toBe('service_healthy');
      expect(worker.command).toEqual(['node', builtEntry('worker')]);
    },
  );

  it('does not publish a password-less Redis on the host', () => {
    const redis = compose.services.redis;
    const hasPassword = /--requirepass|--aclfile/.test(redis.command?.join(' ') ?? '');
    expect(hasPassword || (redis.ports ?? []).length === 0).toBe(true);
    if (!hasPassword) expect(redis.ports ?? []).toEqual([]);
  });

  it.each(apis)('%s sets Secure cookies and reads its users from a mounted file', (name) => {
    const api = compose.services[name];
    const env = api.environment ?? {};
    expect(env.SESSION_COOKIE_SECURE ?? 'true').toBe('true');
    expect(env.NODE_ENV ?? 'production').not.toBe('development');
    expect(env.USERS_FILE).toBe('/run/secrets/users');
    expect(api.secrets).toContain('users');
    expect(compose.secrets?.users.file).toBe('./users.json');
  });

  it('publishes only the proxy, which replaces X-Forwarded-For and balances both api replicas', () => {
    const published = Object.entries(compose.services)
      .filter(([, service]) => (service.ports ?? []).length > 0)
      .map(([name]) => name);
    expect(published).toEqual(['proxy']);
    const proxy = compose.services.proxy;
    expect(proxy.volumes).toContain('./deploy/nginx.conf:/etc/nginx/nginx.conf:ro');
    expect(proxy.ports).toEqual(['3000:8080']);
    expect(nginx).toMatch(/listen 8080;/);
    expect(nginx).toMatch(/proxy_set_header X-Forwarded-For \$remote_addr;/);
    for (const api of apis) expect(proxy.depends_on?.[api].condition).toBe('service_healthy');
  });

  it('pins every image to an exact version and restarts every service', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect({ name, restart: (service as { restart?: string }).restart }).toEqual({
        name,
        restart: 'unless-stopped',
      });
      if (service.build) continue;
      expect({ name, image: service.image }).toEqual({
        name,
        image: expect.stringMatching(/^[\w/-]+:\d+\.\d+\.\d+(-[\w.]+)?$/),
      });
    }
    for (const [, image] of dockerfile.matchAll(/^FROM\s+(\S+)\s+AS/gim)) {
      if (!image.includes(':')) continue; // a previous stage
      expect(image).toMatch(/:\d+\.\d+\.\d+-/);
    }
  });

  it('gives each worker replica its own stable consumer name', () => {
    const names = workers.map((name) => compose.services[name].environment?.WORKER_CONSUMER_NAME);
    expect(names.every((n) => typeof n === 'string' && n.length > 0)).toBe(true);
    expect(new Set(names).size).toBe(workers.length);
  });

  it('configures every process of the deployment with the same session settings', () => {
    const shared = [
      'REDIS_URL',
      'SESSION_PREFIX',
      'SESSION_STREAM_PARTITIONS',
      'SESSION_IDLE_TTL_SECONDS',
      'SESSION_ABSOLUTE_TTL_SECONDS',
    ];
    for (const variable of shared) {
      const values = new Set(
        [...apis, ...workers].map((name) => compose.services[name].environment?.[variable]),
      );
      expect(values.size).toBe(1);
    }
  });
});

describe('Dockerfile', () => {
  it('builds from a context without secrets, local state, tests or benchmarks', () => {
    for (const entry of ['.env', '.env.*', 'users.json', '.git', 'node_modules', 'dist', 'test'])
      expect(dockerignore).toContain(entry);
    expect(dockerignore).toEqual(expect.arrayContaining(['bench', '*.tsbuildinfo']));
    // What the build copies is not ignored: no entry names a copied path or a folder above it.
    for (const [, sources] of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm))
      for (const source of sources.split(/\s+/)) {
        const ignoring = dockerignore.filter(
          (entry) => source === entry || source.startsWith(`${entry.replace(/\/$/, '')}/`),
        );
        expect({ source, ignoring }).toEqual({ source, ignoring: [] });
      }
  });

  it('is multi-stage and its runtime stage runs the built api by default', () => {
    const stages = [...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\w+)/gim)].map((m) => m[1]);
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toMatch(/npm ci/);
    expect(dockerfile).toMatch(/npm run build/);
    expect(dockerfile).toContain('COPY --from=build /app/dist ./dist');
    expect(dockerfile).toContain(`CMD ["node", "${builtEntry('api')}"]`);
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it('does not put the demo users (public passwords) in the image', () => {
    expect(dockerfile).not.toContain('demo-users');
    // The build stage copies apps/ whole, but the runtime stage takes only package.json,
    // node_modules and dist from it, and the build emits no JSON outside the compiled code.
    const runtime = dockerfile.split(/^FROM\s+\S+\s+AS\s+runtime/im)[1] ?? '';
    const copies = [...runtime.matchAll(/^COPY\s+--from=build\s+(\S+)/gim)].map((m) => m[1]);
    expect(copies.sort()).toEqual(['/app/dist', '/app/node_modules', '/app/package.json']);
  });

  describe('HEALTHCHECK', () => {
    const line = /^HEALTHCHECK\s+(.*?)\s+CMD\s+(\[.*\])$/m.exec(dockerfile.replace(/\\\n\s*/g, ''));
    const command = JSON.parse(line?.[2] ?? '[]') as string[];
    let server: Server;
    let answer = 200;

    beforeAll(async () => {
      server = createServer((_req, res) =>
        res.writeHead(_req.url === '/health/ready' ? answer : 404).end(),
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    /** Runs the image's health check command here, as Docker would in the container. */
    function runCheck(env: Record<string, string>): Promise<number | null> {
      const [program, ...args] = command;
      const child = spawn(program === 'node' ? process.execPath : program, args, {
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: 'ignore',
      });
      return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    }

    it('runs node (no curl or wget in the image) against /health/ready, with a timeout', () => {
      expect(line?.[1]).toMatch(/--timeout=\d+s/);
      expect(command.slice(0, 2)).toEqual(['node', '-e']);
      expect(command[2]).toContain('/health/ready');
      expect(dockerfile).not.toMatch(/HEALTHCHECK.*(curl|wget)/);
    });

    it('passes when the api or the worker is ready, fails on 503 or when nothing answers', async () => {
      const port = String((server.address() as AddressInfo).port);
      const closed = String(await freePort()); // free a moment ago: nothing listens
      answer = 200;
      expect(await runCheck({ PORT: port, WORKER_PORT: closed })).toBe(0);
      expect(await runCheck({ PORT: closed, WORKER_PORT: port })).toBe(0);
      answer = 503;
      expect(await runCheck({ PORT: port, WORKER_PORT: closed })).toBe(1);
      expect(await runCheck({ PORT: closed, WORKER_PORT: port })).toBe(1);
      expect(await runCheck({ PORT: closed, WORKER_PORT: closed })).toBe(1);
    });
  });
});
