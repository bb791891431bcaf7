import { loadWorkerConfig } from './worker.config';

describe('loadWorkerConfig', () => {
  it('limits concurrent sessions per user to 100 by default, 0 turning the limit off', () => {
    expect(loadWorkerConfig({}).maxSessionsPerUser).toBe(100);
    expect(loadWorkerConfig({ SESSION_MAX_PER_USER: '0' }).maxSessionsPerUser).toBe(0);
  });
});
