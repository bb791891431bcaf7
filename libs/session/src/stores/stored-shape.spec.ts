import { RecentReads } from './recent-reads';
import { changedKeys, fromJsonValues, jsonValues, toStoredShape } from './stored-shape';

const read = (values: Record<string, unknown>) => ({
  sessionId: '0-x',
  userId: '',
  values: jsonValues(values),
});

describe('stored shape of a middleware session', () => {
  it("leaves out the cookie's expires (recomputed by the middleware on every request)", () => {
    const shape = toStoredShape({
      cookie: { originalMaxAge: 1000, expires: new Date(), path: '/' },
      a: 1,
      skipped: undefined,
    });
    expect(shape).toEqual({ cookie: { originalMaxAge: 1000, path: '/' }, a: 1 });
  });

  it('hands out a copy: changing it leaves the values it came from intact', () => {
    const values = jsonValues({ cart: [1] });
    const session = fromJsonValues(values);
    (session.cart as number[]).push(2);
    expect(values.get('cart')).toBe('[1]');
    expect(session.cookie).toEqual({});
  });

  it('patches only the keys changed since the read, null for the removed ones', () => {
    expect(
      changedKeys(jsonValues({ a: 1, b: [1], c: 1 }), jsonValues({ a: 1, b: [2], d: 0 })),
    ).toEqual({ b: [2], d: 0, c: null });
    expect(changedKeys(jsonValues({ a: { x: 1 } }), jsonValues({ a: { x: 1 } }))).toEqual({});
  });
});

describe('RecentReads', () => {
  it('takes the read a save differs from least, so overlapping saves keep each other', () => {
    const reads = new RecentReads(10, 60_000);
    reads.remember('sid', read({ a: 1, b: 1 }));
    reads.remember('sid', read({ a: 2, b: 1 })); // after another request changed a
    // A request that read the first and changed b: its a is the old one.
    const base = reads.bestFor('sid', jsonValues({ a: 1, b: 3 }));
    expect(changedKeys(base!.values, jsonValues({ a: 1, b: 3 }))).toEqual({ b: 3 });
    expect(reads.bestFor('other', jsonValues({}))).toBeUndefined();
  });

  it('forgets a destroyed sid', () => {
    const reads = new RecentReads(10, 60_000);
    reads.remember('sid', read({ a: 1 }));
    reads.forget('sid');
    expect(reads.bestFor('sid', jsonValues({ a: 1 }))).toBeUndefined();
  });
});
