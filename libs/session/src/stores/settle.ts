/**
 * Hands a promise's outcome to a Node-style callback, outside the promise chain: an exception the
 * callback throws is the app's (as with any callback API), not a rejection that calls it again.
 */
export function settle<T>(
  promise: Promise<T>,
  callback: ((error: unknown, value?: T) => void) | undefined,
): void {
  promise.then(
    (value) => {
      if (callback) process.nextTick(callback, null, value);
    },
    (error: unknown) => {
      if (callback) process.nextTick(callback, error);
    },
  );
}
