import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DeploymentMismatchError, SessionStoreUnavailableError } from './errors';
import { SessionRedisLifecycle } from './session-redis.provider';
import { SessionStore } from './store/session-store';

const RETRY_MS = 1000;

/**
 * Makes every process of a deployment agree on the settings that decide where data lives and how
 * long it is kept (store/deployment-settings.ts: partitions, absolute TTL, stream retention and
 * length): the first process to start stores them, and a process configured otherwise refuses to
 * start. Without this, an instance with another partition count writes sessions where the others
 * never look, and a worker with a shorter absolute TTL prunes live sessions from the indexes.
 *
 * When Redis cannot be reached at start-up the app starts as usual, every session call answers
 * 503 until the check has run (as soon as Redis is ready), and a difference found then makes the
 * library refuse every call, with the reason in the log.
 */
@Injectable()
export class DeploymentSettingsCheck implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('SessionDeployment');
  private verified = false;
  private running = false;
  private retryTimer?: NodeJS.Timeout;
  private readonly onReady = () => void this.verifyLater();

  constructor(
    private readonly lifecycle: SessionRedisLifecycle,
    private readonly store: SessionStore,
  ) {}

  async onModuleInit(): Promise<void> {
    if (await this.lifecycle.connect()) {
      try {
        await this.verify(); // a mismatch throws: the app does not start
        return;
      } catch (error) {
        if (!(error instanceof SessionStoreUnavailableError)) throw error;
      }
    }
    this.store.holdScripts(new SessionStoreUnavailableError('deployment settings unverified'));
    this.lifecycle.client.on('ready', this.onReady);
    this.scheduleRetry();
  }

  onApplicationShutdown(): void {
    this.verified = true; // nothing more to check
    clearTimeout(this.retryTimer);
    this.lifecycle.client.off('ready', this.onReady);
  }

  private async verify(): Promise<void> {
    const mismatch = await this.store.claimDeploymentSettings();
    this.verified = true;
    this.lifecycle.client.off('ready', this.onReady);
    if (mismatch) throw mismatch;
    // A process whose prefix is mistyped does not join its deployment but starts one: say so.
    if (!this.store.joinedExistingDeployment)
      this.logger.log(`Created the deployment under key prefix "${this.store.keys.prefix}"`);
  }

  private async verifyLater(): Promise<void> {
    if (this.verified || this.running) return;
    this.running = true;
    try {
      await this.verify();
    } catch (error) {
      if (error instanceof DeploymentMismatchError) this.logger.error(error.message);
      else this.scheduleRetry();
    } finally {
      this.running = false;
    }
  }

  private scheduleRetry(): void {
    if (this.verified) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.verifyLater(), RETRY_MS);
    this.retryTimer.unref();
  }
}
