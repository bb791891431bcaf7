import { resolveSessionOptions } from '../session-options';
import { deploymentSettingsOf, FIXED_DEPLOYMENT_SETTINGS } from './deployment-settings';

describe('deploymentSettingsOf', () => {
  it('states the shared settings as operators configure them (seconds), retention defaulting to the TTL', () => {
    const options = resolveSessionOptions({
      redis: { url: 'redis://127.0.0.1:6379' },
      absoluteTtlSeconds: 7200,
      idleTtlSeconds: 600,
      streamPartitions: 8,
    });
    expect(deploymentSettingsOf(options)).toEqual([
      ['streamPartitions', '8'],
      ['absoluteTtlSeconds', '7200'],
      ['streamRetentionSeconds', '7200'],
      ['streamMaxLength', '1000000'],
    ]);
  });

  it('keeps the partition count out of the settings that change in place', () => {
    expect([...FIXED_DEPLOYMENT_SETTINGS]).toEqual(['streamPartitions']);
  });
});
