import { Inject, Injectable } from '@nestjs/common';
import { type RedisStreamsServer, RedisStreamsStatus } from '@app/streams';
import { WORKER_STREAMS_SERVER } from '../worker.constants';

/** Whether the consumer's connections are all up, so its group reads go through. */
@Injectable()
export class ConsumerState {
  private connected = false;

  constructor(@Inject(WORKER_STREAMS_SERVER) server: RedisStreamsServer) {
    server.status.subscribe(
      (status) => (this.connected = String(status) === String(RedisStreamsStatus.CONNECTED)),
    );
  }

  get reading(): boolean {
    return this.connected;
  }
}
