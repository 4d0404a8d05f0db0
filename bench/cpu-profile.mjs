// Preloaded into the spawned services by `bench/ingest.ts` when BENCH_CPU_PROF_DIR is set
// (`--cpu-prof` is not allowed in NODE_OPTIONS on Node 20): profiles the whole process and
// writes `<dir>/<argv>-<pid>.cpuprofile` when it exits.
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  process.on('exit', () => {
    // Same-thread inspector sessions answer synchronously, so this completes inside 'exit'.
    session.post('Profiler.stop', (error, result) => {
      if (error) return;
      const name =
        process.argv
          .slice(2)
          .join('_')
          .replace(/[^A-Za-z0-9_-]/g, '') || 'node';
      writeFileSync(join(dir, `${name}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
