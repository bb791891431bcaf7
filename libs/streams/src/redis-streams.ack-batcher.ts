/**
 * Coalesces acknowledgements: the ids acknowledged for one stream during one turn of the event
 * loop go out as one command carrying all of them, and each caller gets that command's outcome.
 * Handlers finish in bursts (the replies of a pipeline are parsed together), so at a worker's
 * concurrency one XACK replaces tens, on both sides of the connection.
 */
export class AckBatcher {
  private readonly batches = new Map<string, Batch>();
  private scheduled = false;

  constructor(
    /** Sends one acknowledgement command for `ids` of `stream`. */
    private readonly send: (stream: string, ids: string[]) => Promise<unknown>,
    /** A batch this large goes out at once instead of waiting for the end of the turn. */
    private readonly maxBatch = 500,
  ) {}

  /** Settles when the command carrying `id` has been answered (rejects with its error). */
  ack(stream: string, id: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let batch = this.batches.get(stream);
      if (!batch) {
        batch = { ids: [], waiters: [] };
        this.batches.set(stream, batch);
      }
      batch.ids.push(id);
      batch.waiters.push({ resolve, reject });
      if (batch.ids.length >= this.maxBatch) this.flushStream(stream);
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Sends every waiting batch now. */
  flush(): void {
    this.scheduled = false;
    for (const stream of [...this.batches.keys()]) this.flushStream(stream);
  }

  private flushStream(stream: string): void {
    const batch = this.batches.get(stream);
    if (!batch) return;
    this.batches.delete(stream);
    // Through a resolved promise: a synchronous throw of `send` rejects the waiters too.
    Promise.resolve()
      .then(() => this.send(stream, batch.ids))
      .then(
        () => batch.waiters.forEach((w) => w.resolve()),
        (error: unknown) => batch.waiters.forEach((w) => w.reject(error)),
      );
  }
}

interface Batch {
  ids: string[];
  waiters: { resolve: () => void; reject: (error: unknown) => void }[];
}
