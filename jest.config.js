// Two projects: pure-logic unit tests beside the code, and integration tests in test/ that talk
// to a real Redis provided by test/support/global-setup.ts.
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

module.exports = {
  testTimeout: 30000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      // An unhandled rejection or uncaught exception fails the test (or file) it came from.
      setupFilesAfterEnv: ['<rootDir>/test/support/unhandled-rejections.ts'],
    },
    {
      // The api suites and the HTTP fuzz again with the api on Fastify (the default adapter; the
      // integration project runs them in-process on Express): every feature on both.
      ...common,
      displayName: 'api-fastify',
      globals: { __TEST_HTTP_ADAPTER__: 'fastify' },
      testMatch: ['<rootDir>/test/api/**/*.test.ts', '<rootDir>/test/fuzz/api-fuzz.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/support/unhandled-rejections.ts'],
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
  ],
};
