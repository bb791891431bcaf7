'use strict';
/** The child processes of `npm start`: started with prefixed output, stopped within a bound. */
const { spawn } = require('node:child_process');

function isRunning(child) {
  return child.exitCode === null && child.signalCode === null;
}

/** Runs `node <entry>` with each output line prefixed by `[name]`. */
function runApp(name, entry, env, cwd) {
  const child = spawn(process.execPath, [entry], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (stream, target) => {
    let buffered = '';
    stream.on('data', (chunk) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) target.write(`[${name}] ${line}\n`);
    });
    stream.on('end', () => buffered && target.write(`[${name}] ${buffered}\n`));
  };
  prefix(child.stdout, process.stdout);
  prefix(child.stderr, process.stderr);
  return child;
}

/**
 * Sends SIGTERM (to the whole group when `group`), waits up to `timeoutMs`, then SIGKILLs.
 * Resolves with true when the process had to be killed.
 */
function stopProcess(child, timeoutMs, group = false) {
  return new Promise((resolve) => {
    if (!isRunning(child)) return resolve(false);
    const signal = (name) => {
      try {
        if (group) process.kill(-child.pid, name);
        else child.kill(name);
      } catch {
        // Already gone.
      }
    };
    let killed = false;
    const timer = setTimeout(() => {
      signal('SIGKILL');
      killed = true;
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(killed);
    });
    signal('SIGTERM');
  });
}

/** "code 1" or "signal SIGKILL": how a process ended. */
function describeExit(code, signal) {
  return signal ? `signal ${signal}` : `code ${code}`;
}

module.exports = { describeExit, isRunning, runApp, stopProcess };
