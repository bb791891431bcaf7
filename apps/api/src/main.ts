import { Logger } from 'nestjs-pino';
import { createApp } from './app.factory';
import { armShutdownDeadline } from '@app/config';
import { loadConfig } from './config';

export { configureApp, createApp } from './app.factory';

async function bootstrap(): Promise<void> {
  const config = loadConfig(process.env);
  const app = await createApp(config);
  armShutdownDeadline(config.shutdownTimeoutMs);
  await app.listen(config.port);
  app.get(Logger).log(`api listening on ${await app.getUrl()}`, 'Bootstrap');
}

if (require.main === module) {
  bootstrap().catch((error: unknown) => {
    process.stderr.write(
      `api failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  });
}
