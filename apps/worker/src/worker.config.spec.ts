import { loadWorkerConfig } from './worker.config';

describe('loadWorkerConfig', () => {
  it('limits concurrent sessions per user to 100 by default, 0 turning the limit off', () => {
    expect(loadWorkerConfig({}).maxSessionsPerUser).toBe(100);
    expect(loadWorkerConfig({ SESSION_MAX_PER_USER: '0' }).maxSessionsPerUser).toBe(0);
  });

  it('listens on loopback by default, WORKER_HOST choosing another address', () => {
    expect(loadWorkerConfig({}).host).toBe('127.0.0.1');
    expect(loadWorkerConfig({ WORKER_HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(() => loadWorkerConfig({ WORKER_HOST: 'a b' })).toThrow(/WORKER_HOST/);
  });
});
