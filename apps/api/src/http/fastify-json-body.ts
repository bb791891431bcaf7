import { BadRequestException, UnsupportedMediaTypeException } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import getRawBody from 'raw-body';
import { bodyParserException } from './json-body.middleware';

type FastifyContentTypeParser = (
  request: FastifyRequest,
  payload: IncomingMessage,
  done: (error: Error | null, body?: unknown) => void,
) => void;

const JSON_TYPE = /^\s*application\/(json|[^;\s]+\+json)\s*(;|$)/i;
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)"?/i;

/** body-parser's strict mode: only an object or an array at the top. */
const STRICT_START = /^[\s]*[[{]/;

/**
 * JSON bodies on Fastify with the rules JsonBodyMiddleware applies on Express: at most
 * `limitBytes`, compressed bodies refused 415 without inflating, strict JSON, the same errors
 * (read by raw-body, body-parser's reader). Other content types are not read: the handlers see
 * no body (400 from their checks), as on Express, instead of Fastify's 415.
 */
export function useJsonBodies(fastify: FastifyInstance, limitBytes: number): void {
  fastify.removeAllContentTypeParsers();
  const parse: FastifyContentTypeParser = (request, payload, done) => {
    const encoding = (request.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity') {
      return done(
        new UnsupportedMediaTypeException(
          'Content-Encoding is not accepted: send the JSON body uncompressed',
        ),
        undefined,
      );
    }
    // body-parser's rule: a UTF charset or none (then UTF-8); any other is 415.
    const charset = CHARSET.exec(request.headers['content-type'] ?? '')?.[1]?.toLowerCase();
    if (charset !== undefined && !charset.startsWith('utf-')) {
      return done(
        new UnsupportedMediaTypeException(`unsupported charset "${charset.toUpperCase()}"`),
        undefined,
      );
    }
    getRawBody(
      payload,
      {
        length: request.headers['content-length'],
        limit: limitBytes,
        encoding: charset ?? 'utf-8',
      },
      (error, text) => {
        if (error) return done(bodyParserException(error, limitBytes), undefined);
        // An empty JSON body is an empty object, as body-parser has it.
        if (text.length === 0) return done(null, {});
        if (!STRICT_START.test(text)) {
          return done(new BadRequestException('Malformed JSON body'), undefined);
        }
        try {
          done(null, JSON.parse(text));
        } catch {
          done(new BadRequestException('Malformed JSON body'), undefined);
        }
      },
    );
  };
  fastify.addContentTypeParser('application/json', parse);
  fastify.addContentTypeParser(/^application\/[^;\s]+\+json(\s*;.*)?$/, parse);
  // Fastify hands a JSON type with parameters it does not know (charset=klingon) to '*'.
  fastify.addContentTypeParser('*', (request, payload, done) => {
    if (JSON_TYPE.test(request.headers['content-type'] ?? '')) return parse(request, payload, done);
    done(null, undefined);
  });
}
