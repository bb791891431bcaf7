/**
 * Makes an unhandled promise rejection or an uncaught exception fail the test run, with a message
 * that says where it happened. Loaded by the integration project as a setupFilesAfterEnv file, so
 * it runs in every test file after jest-circus has installed its own handlers.
 *
 * - Every rejection or exception that reaches the real process is recorded with the test (or hook
 *   phase) that was running.
 * - afterEach fails the test whose body or hooks produced one (after a macrotask, so a rejection
 *   left behind by the test's last statement is still attributed to it).
 * - afterAll (the root one, which runs after every describe block and its afterAll hooks) waits a
 *   short grace period, fails the file if anything is still unreported, and removes the listeners:
 *   from then on Node's default (crash) applies again, as without this file.
 */
import { inspect } from 'node:util';
import { runInThisContext } from 'node:vm';

/** How long afterAll waits for rejections still in flight after the last test and hooks. */
const GRACE_MS = 50;

interface Recorded {
  kind: 'unhandled rejection' | 'uncaught exception';
  where: string;
  detail: string;
}

// Inside a jest sandbox `process` is a copy; listeners must go on the real process.
const realProcess = runInThisContext('process') as NodeJS.Process;
const recorded: Recorded[] = [];
let reported = 0;
/** The running test, from the root beforeEach (first to run) to the root afterEach (last). */
let currentTest: string | undefined;

function where(): string {
  return currentTest
    ? `test "${currentTest}" (or its beforeEach/afterEach hooks)`
    : 'a beforeAll/afterAll hook, or between tests';
}

function describeError(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'stack' in error) {
    const stack = (error as { stack?: unknown }).stack;
    if (typeof stack === 'string') return stack;
  }
  return inspect(error, { depth: 4 });
}

const onRejection = (reason: unknown): void => {
  recorded.push({ kind: 'unhandled rejection', where: where(), detail: describeError(reason) });
};
const onException = (error: unknown): void => {
  recorded.push({ kind: 'uncaught exception', where: where(), detail: describeError(error) });
};
realProcess.on('unhandledRejection', onRejection);
realProcess.on('uncaughtException', onException);

function throwIfNew(context: string): void {
  const fresh = recorded.slice(reported);
  reported = recorded.length;
  if (fresh.length === 0) return;
  const lines = fresh.map(
    (entry, i) => `#${i + 1} ${entry.kind} during ${entry.where}:\n${entry.detail}`,
  );
  throw new Error(
    `${fresh.length} unhandled rejection(s)/uncaught exception(s) ${context}:\n\n${lines.join('\n\n')}`,
  );
}

beforeEach(() => {
  currentTest = expect.getState().currentTestName;
});

afterEach(async () => {
  try {
    await new Promise((resolve) => setImmediate(resolve));
    throwIfNew('in this test');
  } finally {
    currentTest = undefined;
  }
});

afterAll(async () => {
  try {
    await new Promise((resolve) => setTimeout(resolve, GRACE_MS));
    throwIfNew('after the last test of this file (in afterAll hooks or left running)');
  } finally {
    realProcess.off('unhandledRejection', onRejection);
    realProcess.off('uncaughtException', onException);
  }
});
