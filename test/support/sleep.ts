/** Waits `ms` milliseconds: the one sleep of the test suites. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));
