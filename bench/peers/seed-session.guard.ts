/** The seed recipe's SessionGuard, as written: cookie `session_id` or header `x-session-id`. */
import {
  type CanActivate,
  type ExecutionContext,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { type SessionData, SessionService } from './seed-session.service';

export interface SeedRequest {
  cookies?: Record<string, string | undefined>;
  headers: Record<string, string | string[] | undefined>;
  session?: SessionData;
}

@Injectable()
export class SessionGuard implements CanActivate {
  constructor(private readonly sessionService: SessionService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<SeedRequest>();
    const sessionId = request.cookies?.session_id || request.headers['x-session-id'];
    if (!sessionId) throw new UnauthorizedException('No session');
    const session = await this.sessionService.get(String(sessionId));
    if (!session) throw new UnauthorizedException('Invalid session');
    request.session = session;
    return true;
  }
}
