import {
  createParamDecorator,
  type ExecutionContext,
  Inject,
  Injectable,
  type PipeTransform,
  UnauthorizedException,
} from '@nestjs/common';
import { SessionConfigError } from './errors';
import type { ResolvedSessionOptions } from './session-options';
import type { SessionRequest } from './session-request';
import { SESSION_OPTIONS } from './session.constants';

/**
 * Principals resolved so far, by request: once per request whatever asks (several parameters,
 * handlers of several modules). Weak, so a finished request takes its principal with it; no
 * field is added to the request (Fastify wants its request fields declared).
 */
const resolved = new WeakMap<object, Promise<unknown>>();

async function resolvePrincipal(
  request: SessionRequest,
  options: ResolvedSessionOptions,
): Promise<unknown> {
  const session = request.session;
  if (session === undefined) return undefined; // a public route without a session
  if (!options.resolvePrincipal)
    throw new SessionConfigError('resolvePrincipal', 'is not set: @CurrentPrincipal() needs it');
  const principal = await options.resolvePrincipal(session);
  if (principal === null || principal === undefined)
    throw new UnauthorizedException('No principal for this session');
  return principal;
}

/** The principal of a request's session, resolved at most once per request. */
export function principalOf(
  request: SessionRequest,
  options: ResolvedSessionOptions,
): Promise<unknown> {
  let principal = resolved.get(request);
  if (principal === undefined) {
    principal = resolvePrincipal(request, options);
    resolved.set(request, principal);
  }
  return principal;
}

/** Turns the request into its principal (a pipe, so the handler gets the awaited value). */
@Injectable()
export class PrincipalPipe implements PipeTransform<SessionRequest, Promise<unknown>> {
  constructor(@Inject(SESSION_OPTIONS) private readonly options: ResolvedSessionOptions) {}

  transform(request: SessionRequest): Promise<unknown> {
    return principalOf(request, this.options);
  }
}

const SessionRequestParam = createParamDecorator(
  (_: unknown, context: ExecutionContext): SessionRequest =>
    context.switchToHttp().getRequest<SessionRequest>(),
);

/**
 * The principal of the request's session (HTTP): what the `resolvePrincipal` option returns for
 * it, resolved once per request and only when asked for; undefined on a public route without a
 * session. `@CurrentUser()` still gives the user id.
 */
export const CurrentPrincipal = (): ParameterDecorator =>
  SessionRequestParam(undefined, PrincipalPipe);
