import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ProfileSummary, summarizeProfile } from './cpu-profile';

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) =>
    session.post(method, params, (error, result) => (error ? reject(error) : resolve(result as T))),
  );
}

/** V8 CPU profile of this process while `fn` runs, summarized by self time. */
export async function profileThisProcess(fn: () => Promise<unknown>): Promise<ProfileSummary> {
  const session = new Session();
  session.connect();
  const dir = mkdtempSync(join(tmpdir(), 'bench-self-profile-'));
  try {
    await post(session, 'Profiler.enable');
    await post(session, 'Profiler.setSamplingInterval', { interval: 200 });
    await post(session, 'Profiler.start');
    await fn();
    const { profile } = await post<{ profile: object }>(session, 'Profiler.stop');
    const file = join(dir, 'self.cpuprofile');
    writeFileSync(file, JSON.stringify(profile));
    return summarizeProfile(file);
  } finally {
    session.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}
