import { LogThrottle } from './log-throttle';

describe('LogThrottle', () => {
  let now = 0;
  const throttle = () => new LogThrottle(10_000, () => now);

  beforeEach(() => (now = 1_000_000));

  it('writes the first line of a window, counts the rest, and says how many on the next', () => {
    const t = throttle();
    expect(t.line('reader', 'Reconnecting to Redis (reader)...')).toBe(
      'Reconnecting to Redis (reader)...',
    );
    for (let i = 0; i < 11; i++) {
      now += 500;
      expect(t.line('reader', 'Reconnecting to Redis (reader)...')).toBeNull();
    }
    now = 1_010_000;
    expect(t.line('reader', 'Reconnecting to Redis (reader)...')).toBe(
      'Reconnecting to Redis (reader)... (12 times in the last 10 s)',
    );
  });

  it('writes a lone repeat after the window without a count', () => {
    const t = throttle();
    expect(t.line('k', 'm')).toBe('m');
    now += 60_000;
    expect(t.line('k', 'm')).toBe('m');
  });

  it('keeps one window per key', () => {
    const t = throttle();
    expect(t.line('reader', 'a')).toBe('a');
    expect(t.line('commands', 'b')).toBe('b');
    expect(t.line('reader', 'a')).toBeNull();
  });

  it('starts afresh after reset (the connection came back)', () => {
    const t = throttle();
    expect(t.line('k', 'm')).toBe('m');
    expect(t.line('k', 'm')).toBeNull();
    t.reset('k');
    expect(t.line('k', 'm')).toBe('m');
  });
});
