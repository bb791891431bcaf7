import { ServiceUnavailableException } from '@nestjs/common';
import { answerProbe, probeReport } from './probe-report';

describe('probeReport', () => {
  it('is ok with every check up when nothing fails', () => {
    expect(probeReport({ shutdown: null, redis: null })).toEqual({
      status: 'ok',
      checks: { shutdown: 'up', redis: 'up' },
    });
  });

  it('gives the first failing check as the reason', () => {
    expect(
      probeReport({ shutdown: null, redis: 'Redis does not answer', consumer: 'not read' }),
    ).toEqual({
      status: 'error',
      reason: 'Redis does not answer',
      checks: { shutdown: 'up', redis: 'down', consumer: 'down' },
    });
  });

  it('answers a failing report as a 503 with the same body', () => {
    const report = probeReport({ shutdown: 'shutting down' });
    expect(() => answerProbe(report)).toThrow(ServiceUnavailableException);
    try {
      answerProbe(report);
    } catch (error) {
      expect((error as ServiceUnavailableException).getResponse()).toEqual(report);
    }
    const ok = probeReport({ shutdown: null });
    expect(answerProbe(ok)).toBe(ok);
  });
});
