/**
 * Preloaded into a server under test when BENCH_CPU_PROFILE_FILE is set (never in the measured
 * runs): the first SIGUSR2 starts the V8 CPU profiler, the second stops it and writes the
 * .cpuprofile to that file, so the profile covers the load window only.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const file = process.env.BENCH_CPU_PROFILE_FILE;
if (file) {
  const session = new Session();
  session.connect();
  let running = false;
  process.on('SIGUSR2', () => {
    if (!running) {
      running = true;
      session.post('Profiler.enable', () =>
        session.post('Profiler.setSamplingInterval', { interval: 200 }, () =>
          session.post('Profiler.start', () => process.stderr.write('cpu-profile: started\n')),
        ),
      );
      return;
    }
    session.post('Profiler.stop', (error, result) => {
      running = false;
      if (error) process.stderr.write(`cpu-profile: failed ${error.message}\n`);
      else writeFileSync(file, JSON.stringify(result.profile));
      process.stderr.write('cpu-profile: written\n');
    });
  });
}
