import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

/** What Node's HTTP parser errors mean to the client, as Node's own server answers them. */
function statusFor(code: string | undefined): number {
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return 413;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return 400;
}

/** Node's own bookkeeping: the response in flight on a keep-alive connection, if any. */
interface HttpServerSocket extends Socket {
  _httpMessage?: { headersSent?: boolean } | null;
}

/**
 * Answers a request Node could not parse (oversized headers, broken syntax) the way Node's own
 * server does, and so the way the api answers on Express: a status line, `Connection: close`, an
 * empty body. Fastify's default writes a JSON body, which a client that sent HEAD must not read (it
 * takes those bytes for the next response and fails to parse it).
 *
 * On a keep-alive connection the broken request may follow answered ones: it is answered too,
 * unless a response is part-written on the socket (the bytes would land inside it).
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const inFlight = (socket as HttpServerSocket)._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const status = statusFor(error.code);
    // An explicit empty length: the answer is complete without waiting for the close, which
    // may arrive as a reset when the client is still sending what the parser refused.
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
    );
  }
  socket.destroy(error);
}
