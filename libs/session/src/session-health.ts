import { Injectable } from '@nestjs/common';
import { DeploymentMismatchError } from './errors';
import { LocalSessionCache } from './local-session-cache';
import { SessionStore } from './store/session-store';

/** How long Redis may take to answer PING before it counts as unreachable. */
export const HEALTH_PING_TIMEOUT_MS = 1000;

/** Each readiness check of the library: why it fails in a few words, or null when it passes. */
export interface SessionReadiness {
  /** Redis answers PING within HEALTH_PING_TIMEOUT_MS. */
  redis: string | null;
  /** The invalidation subscriber is subscribed (else the local cache is off and revocations of
   * other instances are not heard). */
  invalidations: string | null;
  /** The deployment settings were verified and agree (else every session call answers 503). */
  deploymentSettings: string | null;
}

/**
 * What an app's readiness probe asks of the session library. The reasons say what is wrong,
 * never where (hosts, ports and driver errors are in the log).
 */
@Injectable()
export class SessionHealth {
  constructor(
    private readonly store: SessionStore,
    private readonly local: LocalSessionCache,
  ) {}

  async readiness(): Promise<SessionReadiness> {
    return {
      redis: (await this.redisAnswers()) ? null : 'Redis does not answer',
      invalidations:
        this.local.subscriberState === 'subscribed'
          ? null
          : `invalidation subscriber ${this.local.subscriberState}`,
      deploymentSettings: this.deploymentProblem(),
    };
  }

  private async redisAnswers(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), HEALTH_PING_TIMEOUT_MS);
    });
    try {
      return await Promise.race([
        this.store.ping().then(
          () => true,
          () => false,
        ),
        timedOut,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  private deploymentProblem(): string | null {
    const refusal = this.store.refusedBecause;
    if (!refusal) return null;
    return refusal instanceof DeploymentMismatchError
      ? 'configured unlike the deployment (see the log)'
      : 'deployment settings not verified yet';
  }
}
