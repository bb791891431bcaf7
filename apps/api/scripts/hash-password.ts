/**
 * Prints the scrypt hash of a password for USERS_FILE (`scrypt$N$r$p$saltB64$hashB64`).
 *
 *   npm run hash-password -- 'the new password'
 *   printf '%s' 'the new password' | npm run hash-password    (keeps it out of shell history)
 */
import { readFileSync } from 'node:fs';
import { hashPasswordSync } from '../src/users/password-hash';

function readPassword(): string | undefined {
  const fromArgs = process.argv[2];
  if (fromArgs !== undefined) return fromArgs;
  if (process.stdin.isTTY) return undefined;
  return readFileSync(0, 'utf8').replace(/\r?\n$/, '');
}

const password = readPassword();
if (!password) {
  process.stderr.write(
    'usage: npm run hash-password -- <password>   or   printf %s <password> | npm run hash-password\n',
  );
  process.exit(2);
}
process.stdout.write(`${hashPasswordSync(password)}\n`);
