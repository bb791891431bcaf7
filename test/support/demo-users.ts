import { join } from 'node:path';

/**
 * The shipped demo users as an explicit USERS_FILE: the api refuses to start without one unless
 * NODE_ENV=development, and the tests run it production-like (Secure defaults, no dev fallbacks).
 */
export const DEMO_USERS_FILE = join(__dirname, '..', '..', 'apps', 'api', 'demo-users.json');
