import { Test } from '@nestjs/testing';
import { SessionService } from '../session.service';
import { InMemorySessions } from './in-memory-sessions';
import { SessionTestingModule } from './session-testing.module';

describe('SessionTestingModule.withoutRedis()', () => {
  async function compile(idleTtlSeconds = 3600) {
    const moduleRef = await Test.createTestingModule({
      imports: [SessionTestingModule.withoutRedis({ idleTtlSeconds, absoluteTtlSeconds: 7200 })],
    }).compile();
    return { moduleRef, sessions: moduleRef.get(SessionService) };
  }

  it('creates, verifies, updates and revokes sessions in memory', async () => {
    const { moduleRef, sessions } = await compile();
    expect(moduleRef.get(InMemorySessions)).toBeInstanceOf(InMemorySessions);
    const created = await sessions.create('ada', { roles: ['admin'] });
    const verified = await sessions.verify(created.token);
    expect(verified).toMatchObject({
      valid: true,
      session: { userId: 'ada', data: { roles: ['admin'] } },
    });
    expect(await sessions.update(created.sessionId, { theme: 'dark' })).toEqual({
      roles: ['admin'],
      theme: 'dark',
    });
    expect(
      await sessions.verify(
        `${created.token.slice(0, -1)}${created.token.endsWith('A') ? 'B' : 'A'}`,
      ),
    ).toEqual({
      valid: false,
      reason: 'bad_secret',
    });
    expect(await sessions.verify('nonsense')).toEqual({ valid: false, reason: 'malformed' });
    expect(await sessions.revoke(created.sessionId, 'logout', { userId: 'bob' })).toBe(false);
    const session = (await sessions.validate(created.token))!;
    const notices: unknown[] = [];
    sessions.watch(session).subscribe((notice) => notices.push(notice));
    expect(await sessions.revoke(created.sessionId, 'logout')).toBe(true);
    expect(notices).toEqual([
      {
        kind: 'session',
        sessionId: created.sessionId,
        userId: 'ada',
        reason: 'logout',
        at: expect.any(Number),
      },
    ]);
    expect(await sessions.verify(created.token)).toEqual({ valid: false, reason: 'unknown' });
    await moduleRef.close();
  });

  it('ends a session after its idle TTL', async () => {
    const { moduleRef, sessions } = await compile(60);
    const created = await sessions.create('ada');
    const now = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(now + 61_000);
    try {
      expect(await sessions.verify(created.token)).toEqual({
        valid: false,
        reason: 'idle_expired',
      });
    } finally {
      jest.restoreAllMocks();
    }
    await moduleRef.close();
  });

  it('names forRoot() when a test calls what needs Redis', async () => {
    const { moduleRef, sessions } = await compile();
    await expect(async () => sessions.rotate('x')).rejects.toThrow(
      /SessionService.rotate is not available in SessionTestingModule.withoutRedis\(\).*forRoot\(\)/,
    );
    expect(() => sessions.keys).toThrow(/SessionService.keys is not available/);
    await moduleRef.close();
  });
});
