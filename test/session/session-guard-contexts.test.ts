import {
  Controller,
  type INestMicroservice,
  type LoggerService,
  Module,
  type Type,
} from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import {
  type ClientProxy,
  ClientProxyFactory,
  MessagePattern,
  Transport,
} from '@nestjs/microservices';
import { WsException } from '@nestjs/websockets';
import { firstValueFrom } from 'rxjs';
import { Public, SessionGuard, SessionModule, UnsupportedContextError } from '@app/session';
import { freePort } from '../support/free-port';
import {
  deleteKeysWithPrefix,
  newRedisClient,
  testRedisUrl,
  uniquePrefix,
} from '../support/test-redis';

const handled: string[] = [];

@Controller()
class RpcProbe {
  @MessagePattern('secret')
  secret(): string {
    handled.push('secret');
    return 'the secret';
  }

  @Public()
  @MessagePattern('open')
  open(): string {
    handled.push('open');
    return 'open';
  }
}

/** Keeps what Nest logs, to show the refusal is loud. */
class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(): void {}
  warn(message: unknown): void {
    this.lines.push(String(message));
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.lines.push([message, ...rest].map(String).join(' '));
  }
}

describe('SessionGuard outside HTTP (RPC, WebSocket)', () => {
  const prefix = uniquePrefix('guard-ctx');
  const logger = new CapturingLogger();
  let service: INestMicroservice;
  let client: ClientProxy;

  beforeAll(async () => {
    @Module({
      imports: [SessionModule.forRoot({ redis: { url: testRedisUrl() }, keyPrefix: prefix })],
      controllers: [RpcProbe],
      providers: [{ provide: APP_GUARD, useClass: SessionGuard }],
    })
    class RpcModule {}
    const port = await freePort();
    service = await NestFactory.createMicroservice(RpcModule, {
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port },
      logger,
    });
    await service.listen();
    client = ClientProxyFactory.create({
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port },
    });
  });
  afterAll(async () => {
    await client?.close();
    await service?.close();
    const redis = newRedisClient();
    await deleteKeysWithPrefix(redis, prefix);
    await redis.quit();
  });

  it('refuses an RPC message to a guarded handler, and says why in the log', async () => {
    await expect(firstValueFrom(client.send('secret', {}))).rejects.toBeDefined();
    expect(handled).not.toContain('secret');
    expect(logger.lines.join('\n')).toContain(
      'SessionGuard cannot authenticate a "rpc" request (RpcProbe.secret): it authenticates HTTP requests and WebSocket gateway messages',
    );
  });

  it('lets an RPC message through to a handler marked @Public()', async () => {
    await expect(firstValueFrom(client.send('open', {}))).resolves.toBe('open');
    expect(handled).toContain('open');
  });

  it('refuses a WebSocket message whose connection never authenticated', () => {
    const guard = service.get(SessionGuard);
    class ChatGateway {
      message(): void {}
    }
    const context = new ExecutionContextHost(
      [{ readyState: 1 }, {}, {}],
      ChatGateway as Type<unknown>,
      ChatGateway.prototype.message,
    );
    context.setType('ws');
    // Thrown at once (the guard answers without a promise when it needs no I/O); Nest treats a
    // thrown error and a rejected promise alike.
    expect(() => guard.canActivate(context)).toThrow(WsException);
    expect(() => guard.canActivate(context)).toThrow(/Unauthorized: the connection has no session/);
  });

  it('names the context and what it supports when refusing an RPC message', () => {
    const guard = service.get(SessionGuard);
    class Handler {
      handle(): void {}
    }
    const context = new ExecutionContextHost(
      [{}, {}],
      Handler as Type<unknown>,
      Handler.prototype.handle,
    );
    context.setType('rpc');
    expect(() => guard.canActivate(context)).toThrow(UnsupportedContextError);
    expect(() => guard.canActivate(context)).toThrow(
      /"rpc" request \(Handler\.handle\).*HTTP requests and WebSocket gateway messages/,
    );
  });
});
