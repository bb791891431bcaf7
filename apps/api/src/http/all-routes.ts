import { RequestMethod } from '@nestjs/common';
import type { RouteInfo } from '@nestjs/common/interfaces/middleware/middleware-configuration.interface';

/** Every path and method, unmatched ones included (path-to-regexp v8 wildcard syntax). */
export const ALL_ROUTES: RouteInfo = { path: '{*path}', method: RequestMethod.ALL };
