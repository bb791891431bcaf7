/**
 * The last word on shutdown: after SIGTERM or SIGINT the process exits within `timeoutMs`
 * whatever its shutdown hooks are waiting for (a Redis that is gone or frozen, a handler that
 * never ends). Nest's hooks run first and normally finish well before; what they could not finish
 * is left as it is — stream entries unacknowledged stay pending for another replica, and every
 * state change is one Lua script, so nothing is half-applied.
 */
export function armShutdownDeadline(
  timeoutMs: number,
  report: (message: string) => void = (message) => process.stderr.write(`${message}\n`),
): void {
  const arm = (signal: NodeJS.Signals) => {
    setTimeout(() => {
      report(`Shutdown on ${signal} not finished after ${timeoutMs} ms: exiting now`);
      process.exit(1);
    }, timeoutMs).unref();
  };
  process.once('SIGTERM', arm);
  process.once('SIGINT', arm);
}
