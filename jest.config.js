const { availableParallelism } = require('node:os');

// Projects: pure-logic unit tests beside the code; integration tests in test/ that talk to a real
// Redis provided by test/support/global-setup.ts (again with the api on Fastify, and on a local
// Redis Cluster); and the slow suites apart (see SLOW).
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];
const moduleNameMapper = {
  '^@app/session(|/.*)$': '<rootDir>/libs/session/src$1',
  '^@app/streams(|/.*)$': '<rootDir>/libs/streams/src$1',
  '^@app/config(|/.*)$': '<rootDir>/libs/config/src$1',
};
// @fastify/static (Swagger UI on Fastify) requires content-disposition 2, an ES module: Node 20
// requires it natively, Jest needs it compiled to CommonJS.
const esmOnly = ['content-disposition'];
const common = {
  transform: { '^.+\\.ts$': swc, [`/node_modules/(${esmOnly.join('|')})/.+\\.js$`]: swc },
  transformIgnorePatterns: [
    `/node_modules/(?!(@fastify/static/node_modules/)?(${esmOnly.join('|')})/)`,
  ],
  moduleNameMapper,
  testEnvironment: 'node',
};

// The slow suites: fault injection, worker crashes, hostile and fuzz loads, live rebuilds, whole
// deployments (npm start from a clean clone, rolling upgrade, the shutdown matrix) and the bench
// smoke. `npm test` (the fast default) leaves them out; `npm run test:slow` runs them; CI runs
// both at once (.ci/run); `npx jest` runs everything.
const SLOW = [
  '<rootDir>/test/bench/**/*.test.ts',
  '<rootDir>/test/cluster/resharding-under-load.test.ts',
  '<rootDir>/test/cluster/rebuild-on-cluster.test.ts',
  '<rootDir>/test/deploy/npm-start.test.ts',
  '<rootDir>/test/faults/**/*.test.ts',
  '<rootDir>/test/fuzz/**/*.test.ts',
  '<rootDir>/test/hostile/**/*.test.ts',
  '<rootDir>/test/multi-instance/revocation-faults.test.ts',
  '<rootDir>/test/operations/shutdown.test.ts',
  '<rootDir>/test/upgrade/**/*.test.ts',
  '<rootDir>/test/worker/rebuild-live.test.ts',
  '<rootDir>/test/worker/worker-crash.test.ts',
];
const integrationSetup = {
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // An unhandled rejection or uncaught exception fails the test (or file) it came from.
  setupFilesAfterEnv: ['<rootDir>/test/support/unhandled-rejections.ts'],
};

/** The files of `patterns` that are not slow (jest's testMatch takes no negation of a list). */
const fast = (patterns) => ({
  testMatch: patterns,
  testPathIgnorePatterns: ['/node_modules/', ...SLOW.map(globToRegExp)],
});

/** '<rootDir>/test/x/**' + '/*.test.ts' → a path regexp, for testPathIgnorePatterns. */
function globToRegExp(glob) {
  const escaped = glob
    .replace('<rootDir>/', '/')
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*\*\//g, '\0')
    .replace(/\*/g, '[^/]*')
    .replace(/\0/g, '(.*/)?');
  return `${escaped}$`;
}

module.exports = {
  testTimeout: 30000,
  // Most suites wait on Redis and on the processes they start far more than they compute: at
  // least two files at once even on a 2-core machine (jest's default there is one). The slow
  // suites (fault timing, process crashes) run one at a time (`npm run test:slow`).
  maxWorkers: Math.max(2, availableParallelism() - 1),
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'] },
    {
      ...common,
      ...integrationSetup,
      displayName: 'integration',
      ...fast(['<rootDir>/test/**/*.test.ts']),
    },
    {
      // The api suites again with the api on Fastify (the default adapter; the integration
      // project runs them in-process on Express): every feature on both.
      ...common,
      ...integrationSetup,
      displayName: 'api-fastify',
      globals: { __TEST_HTTP_ADAPTER__: 'fastify' },
      ...fast(['<rootDir>/test/api/**/*.test.ts']),
    },
    {
      // The library and the multi-instance revocation test again, on a real 3-master cluster.
      ...common,
      displayName: 'cluster',
      globals: { __TEST_REDIS_TARGET__: 'cluster' },
      testMatch: [
        '<rootDir>/test/cluster/target.test.ts',
        '<rootDir>/test/session/session-{lifecycle,concurrency,index,expiry}.test.ts',
        '<rootDir>/test/multi-instance/revocation-across-instances.test.ts',
      ],
      globalSetup: '<rootDir>/test/support/cluster-global-setup.ts',
      globalTeardown: '<rootDir>/test/support/cluster-global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/unhandled-rejections.ts'],
    },
    { ...common, ...integrationSetup, displayName: 'slow', testMatch: SLOW },
    {
      // The HTTP fuzz again with the api on Fastify.
      ...common,
      ...integrationSetup,
      displayName: 'slow-fastify',
      globals: { __TEST_HTTP_ADAPTER__: 'fastify' },
      testMatch: ['<rootDir>/test/fuzz/api-fuzz.test.ts'],
    },
  ],
};
