import { CapacityGate, delay, KeyedSerializer, Semaphore } from './redis-streams.scheduler';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Semaphore', () => {
  it('admits at most `limit` holders and hands slots over in FIFO order', async () => {
    const sem = new Semaphore(2);
    const order: number[] = [];
    await sem.acquire();
    await sem.acquire();
    const waiters = [3, 4].map((n) => sem.acquire().then(() => order.push(n)));
    await tick();
    expect(sem.running).toBe(2);
    expect(order).toEqual([]);
    sem.release();
    await tick();
    expect(order).toEqual([3]);
    expect(sem.running).toBe(2);
    sem.release();
    await Promise.all(waiters);
    expect(order).toEqual([3, 4]);
    sem.release();
    sem.release();
    expect(sem.running).toBe(0);
  });
});

describe('KeyedSerializer', () => {
  it('serializes per key, runs keys in parallel, survives failures and forgets idle keys', async () => {
    const ks = new KeyedSerializer();
    const log: string[] = [];
    const gates: Record<string, () => void> = {};
    const task =
      (name: string, fail = false) =>
      () =>
        new Promise<void>((resolve, reject) => {
          log.push(`start ${name}`);
          gates[name] = () => (fail ? reject(new Error(name)) : resolve());
        });
    const a1 = ks.run('a', task('a1', true));
    const a2 = ks.run('a', task('a2'));
    const b1 = ks.run('b', task('b1'));
    const free = ks.run(undefined, task('x'));
    await tick();
    expect([...log].sort()).toEqual(['start a1', 'start b1', 'start x']);
    gates.a1();
    await expect(a1).rejects.toThrow('a1');
    await tick();
    expect(log).toContain('start a2');
    gates.a2();
    gates.b1();
    gates.x();
    await Promise.all([a2, b1, free]);
    await tick();
    expect(ks.size).toBe(0);
  });
});

describe('CapacityGate', () => {
  it('blocks waiters at the limit and wakes them when room appears', async () => {
    const gate = new CapacityGate(2);
    gate.increment();
    gate.increment();
    expect(gate.free).toBe(0);
    let woke = false;
    const waiting = gate.waitForRoom().then(() => (woke = true));
    await tick();
    expect(woke).toBe(false);
    gate.decrement();
    await waiting;
    expect(woke).toBe(true);
    expect(gate.value).toBe(1);
  });
});

describe('delay', () => {
  it('resolves true after the time, false at once on abort', async () => {
    const controller = new AbortController();
    await expect(delay(1, controller.signal)).resolves.toBe(true);
    const pending = delay(60_000, controller.signal);
    controller.abort();
    await expect(pending).resolves.toBe(false);
    await expect(delay(60_000, controller.signal)).resolves.toBe(false);
  });
});
