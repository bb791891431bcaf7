import { hashPassword, hashPasswordSync, parsePasswordHash, verifyPassword } from './password-hash';

const FAST = { N: 1024, r: 8, p: 1 };

describe('password hashing', () => {
  it('hashes in the self-describing scrypt format and verifies', async () => {
    const hash = await hashPassword('correct horse', FAST);
    expect(hash).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
    expect(await verifyPassword('correct horse', hash)).toBe(true);
    expect(await verifyPassword('correct horsE', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
  });

  it('salts every hash', () => {
    expect(hashPasswordSync('same', FAST)).not.toBe(hashPasswordSync('same', FAST));
  });

  it('uses N=16384, r=8, p=1 by default', () => {
    expect(hashPasswordSync('x').startsWith('scrypt$16384$8$1$')).toBe(true);
  });

  it('verifies with the parameters stored in the hash', async () => {
    const hash = hashPasswordSync('pw', { N: 2048, r: 4, p: 2 });
    expect(parsePasswordHash(hash)).toMatchObject({ N: 2048, r: 4, p: 2 });
    expect(await verifyPassword('pw', hash)).toBe(true);
  });

  it('treats Unicode compositions of the same password alike', async () => {
    const hash = await hashPassword('caf\u00e9', FAST);
    expect(await verifyPassword('cafe\u0301', hash)).toBe(true);
  });

  it.each([
    '',
    'bcrypt$10$abc',
    'scrypt$1000$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==',
    'scrypt$16384$0$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==',
    'scrypt$16384$8$99$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==',
    'scrypt$2097152$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==',
    'scrypt$16384$8$1$not base64!$aGFzaGhhc2hoYXNoaGFzaA==',
    'scrypt$16384$8$1$c2FsdHNhbHQ=$c2hvcnQ=',
  ])('refuses the malformed hash %p', async (hash) => {
    expect(parsePasswordHash(hash)).toBeNull();
    expect(await verifyPassword('anything', hash)).toBe(false);
  });
});
