import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ALL_ROUTES } from '../http/all-routes';
import { MetricsService } from './metrics.service';

/** Label for requests that matched no route (404s, bodies refused before routing). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * The route pattern Express matched. The catch-all pattern our own middleware is mounted on is
 * what remains when no controller route matched (a 404, or a body refused before routing).
 */
function routeOf(request: Request): string {
  const route = (request.route as { path?: unknown } | undefined)?.path;
  if (typeof route !== 'string' || route.includes(ALL_ROUTES.path)) return UNMATCHED_ROUTE;
  return route;
}

/**
 * Counts and times every request by route pattern (`/sessions/:sessionId`, never the raw URL, so
 * ids cannot blow up the label cardinality) once its response has been sent.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: MetricsService) {}

  use(request: Request, response: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    response.once('finish', () => {
      const labels = {
        method: request.method,
        route: routeOf(request),
        status: String(response.statusCode),
      };
      this.metrics.httpRequests.inc(labels);
      this.metrics.httpDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  }
}
