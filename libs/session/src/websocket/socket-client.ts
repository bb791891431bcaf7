import type { IncomingSessionRequest } from '../session-request';

/**
 * The two kinds of gateway client Nest ships adapters for, as far as the library needs them:
 * a socket.io Socket (@nestjs/platform-socket.io) and a ws WebSocket (@nestjs/platform-ws).
 * Duck-typed, so the library needs neither package.
 */
export interface SocketIoClient {
  handshake: { headers: IncomingSessionRequest['headers']; auth?: Record<string, unknown> };
  emit(event: string, ...args: unknown[]): unknown;
  disconnect(close?: boolean): unknown;
  once(event: 'disconnect', listener: () => void): unknown;
}

export interface WsClient {
  close(code?: number, reason?: string): void;
  once(event: 'close', listener: () => void): unknown;
  readyState: number;
}

export type GatewayClient = SocketIoClient | WsClient;

export function isSocketIo(client: GatewayClient): client is SocketIoClient {
  return typeof (client as SocketIoClient).handshake === 'object';
}

/** Close code for an unauthenticated or revoked session (4000–4999: the application's own). */
export const WS_CLOSE_UNAUTHORIZED = 4401;

/** Ends a client's connection, telling it why (socket.io: an event first; ws: the close reason). */
export function closeClient(client: GatewayClient, reason: string): void {
  if (isSocketIo(client)) {
    client.emit('session_ended', { reason });
    client.disconnect(true);
  } else if (client.readyState <= 1) {
    client.close(WS_CLOSE_UNAUTHORIZED, reason);
  }
}

/** Runs `listener` once when the client's connection ends, whoever ended it. */
export function onClientGone(client: GatewayClient, listener: () => void): void {
  if (isSocketIo(client)) client.once('disconnect', listener);
  else client.once('close', listener);
}

/** The handshake as an HTTP request for token extraction: headers (cookie, header, bearer). */
export function handshakeOf(
  client: GatewayClient,
  request?: { headers: IncomingSessionRequest['headers'] },
): { headers: IncomingSessionRequest['headers'] } {
  if (isSocketIo(client)) return { headers: client.handshake.headers };
  return { headers: request?.headers ?? {} };
}
