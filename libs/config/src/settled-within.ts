/**
 * Waits for `work` to settle, at most `ms`: true when it did in time (fulfilled or rejected),
 * false when the time ran out. For shutdown steps that wait on Redis, for ever while it is away.
 */
export async function settledWithin(
  work: Promise<unknown> | undefined,
  ms: number,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([
      (work ?? Promise.resolve()).then(
        () => true,
        () => true,
      ),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
