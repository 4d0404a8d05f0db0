import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServicesError } from './errors.js';

/** A long-running service process that outlives the CLI, tracked through a pid file. */
export interface DetachedProcessSpec {
  /** Human name used in messages ("Kafka", "ClickHouse"). */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly pidFile: string;
  /** stdout and stderr are appended here. */
  readonly logFile: string;
  /**
   * A string the process's command line must contain for a pid from the pid file to count as
   * ours (guards against a recycled pid after a reboot or a kill -9).
   */
  readonly marker: string;
  readonly env?: NodeJS.ProcessEnv;
}

function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (exited, not yet reaped by its parent) still answers signal 0.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true;
  }
}

function commandLineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return undefined;
  }
}

/** The pid of the running service, or undefined when it is not running (stale pid files are removed). */
export function runningPid(spec: Pick<DetachedProcessSpec, 'pidFile' | 'marker'>): number | undefined {
  const pid = readPid(spec.pidFile);
  if (pid === undefined) return undefined;
  const cmdline = isAlive(pid) ? commandLineOf(pid) : undefined;
  const ours = isAlive(pid) && (cmdline === undefined ? existsSync('/proc') === false : cmdline.includes(spec.marker));
  if (ours) return pid;
  rmSync(spec.pidFile, { force: true });
  return undefined;
}

/**
 * Starts the process in its own session with stdio going to the log file, so it survives the
 * CLI, and records its pid. Returns the pid.
 */
export function startDetached(spec: DetachedProcessSpec): number {
  const log = openSync(spec.logFile, 'a');
  try {
    const child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      detached: true,
      stdio: ['ignore', log, log],
      env: spec.env ?? process.env,
    });
    if (child.pid === undefined) {
      throw new ServicesError('SERVICES_MISSING_DEPENDENCY', `${spec.name}: cannot run ${spec.command}`);
    }
    // Errors after spawn (ENOENT is reported asynchronously) surface through the readiness wait.
    child.on('error', () => undefined);
    child.unref();
    writeFileSync(spec.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** Sends SIGTERM, waits up to `graceMs`, then SIGKILL. True when a process was stopped. */
export async function stopDetached(
  spec: Pick<DetachedProcessSpec, 'name' | 'pidFile' | 'marker'>,
  options: { graceMs?: number; signal?: NodeJS.Signals } = {},
): Promise<boolean> {
  const pid = runningPid(spec);
  if (pid === undefined) return false;
  const graceMs = options.graceMs ?? 20_000;
  const signal = options.signal ?? 'SIGTERM';
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') {
      throw new ServicesError('SERVICES_STOP_FAILED', `${spec.name}: cannot signal pid ${pid}`, { cause: error });
    }
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    process.kill(pid, 'SIGKILL');
    const killDeadline = Date.now() + 5_000;
    while (isAlive(pid) && Date.now() < killDeadline) await sleep(50);
    if (isAlive(pid)) throw new ServicesError('SERVICES_STOP_FAILED', `${spec.name}: pid ${pid} survived SIGKILL`);
  }
  rmSync(spec.pidFile, { force: true });
  return true;
}

/** True while the process recorded in the pid file is alive. */
export function isPidAlive(pid: number): boolean {
  return isAlive(pid);
}

/** Last `lines` lines of a log file, for error messages. Empty when the file is missing. */
export function tailOf(file: string, lines = 15): string {
  if (!existsSync(file)) return '';
  const text = readFileSync(file, 'utf8');
  return text
    .split('\n')
    .slice(-lines - 1)
    .join('\n')
    .trimEnd();
}
