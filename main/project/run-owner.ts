/**
 * Which processes own a run while it trains, and whether they are still there. The trainer records
 * itself and the app that started it (its parent: the CLI, the server or the desktop app) in the
 * run's row, and writes a heartbeat every few seconds. When both are gone (killed, crashed, the
 * machine restarted) nobody will ever record how the run ended, so runs.ts closes it as resumable
 * the next time anything reads it; while either lives, it is left alone (the app records a trainer
 * crash itself, with how the process ended).
 *
 * A process is told by its pid plus when it started, so a pid the system has given to another
 * process since does not pass for it: on Linux the start time from /proc/<pid>/stat, with the boot
 * and the pid namespace it is counted in. Where that cannot be compared (another machine sharing
 * the project folder, another pid namespace, another system) the heartbeat decides, with a wide
 * margin: a live trainer is never taken for gone because one long step held up its heartbeat.
 */
import fs from 'node:fs';
import os from 'node:os';

/** A process as recorded in a run's row. */
export interface ProcessMark {
  pid: number;
  /** Linux: "<boot id>/<pid namespace>/<start time in clock ticks>"; null where that is not known */
  start: string | null;
}

/** The trainer of a run and the app that started it, on one host, with the trainer's last heartbeat. */
export interface RunOwner {
  host: string;
  trainer: ProcessMark;
  /** null when the trainer had no parent to record (started by hand) */
  app: ProcessMark | null;
  heartbeatAt: string | null;
}

/** How often a trainer writes its heartbeat. */
export const HEARTBEAT_MS = 10_000;

/** A heartbeat this old, where the processes themselves cannot be looked at, means they are gone. */
export const HEARTBEAT_STALE_MS = 5 * 60_000;

/** This process and its parent, as a trainer records them. */
export function markOfThisProcess(): { host: string; trainer: ProcessMark; app: ProcessMark | null } {
  const parent = process.ppid > 1 ? { pid: process.ppid, start: startMark(process.ppid) } : null;
  return { host: os.hostname(), trainer: { pid: process.pid, start: startMark(process.pid) }, app: parent };
}

/** Whether the trainer and the app of a run are both gone, so no one will record how it ended. */
export function ownerIsGone(owner: RunOwner, now = Date.now()): boolean {
  const stale = owner.heartbeatAt === null || !(now - Date.parse(owner.heartbeatAt) <= HEARTBEAT_STALE_MS);
  return processIsGone(owner.host, owner.trainer, stale) && (owner.app === null || processIsGone(owner.host, owner.app, stale));
}

function processIsGone(host: string, mark: ProcessMark, stale: boolean): boolean {
  if (host !== os.hostname()) return stale;
  const recorded = parseStart(mark.start);
  const here = parseStart(startMark(process.pid));
  if (recorded && here && (recorded.boot !== here.boot || recorded.namespace !== here.namespace)) return stale;
  if (recorded && here) {
    const seen = readStat(mark.pid);
    if (seen === 'none') return true;
    // a zombie has ended; the same pid started at another time is another process
    if (seen !== 'unreadable') return seen.state === 'Z' || seen.state === 'X' || seen.ticks !== recorded.ticks;
  }
  // nothing to compare the start with: the pid must exist and the heartbeat be fresh
  return !pidExists(mark.pid) || stale;
}

let bootAndNamespace: string | null | undefined;

/** The start mark of a process on this machine, null where /proc is not there. */
export function startMark(pid: number): string | null {
  if (process.platform !== 'linux') return null;
  if (bootAndNamespace === undefined) {
    try {
      bootAndNamespace = `${fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}/${fs.readlinkSync('/proc/self/ns/pid')}`;
    } catch {
      bootAndNamespace = null;
    }
  }
  const seen = readStat(pid);
  return bootAndNamespace === null || typeof seen === 'string' ? null : `${bootAndNamespace}/${seen.ticks}`;
}

function parseStart(mark: string | null): { boot: string; namespace: string; ticks: string } | null {
  const parts = mark?.split('/') ?? [];
  return parts.length === 3 ? { boot: parts[0], namespace: parts[1], ticks: parts[2] } : null;
}

/** /proc/<pid>/stat: the state (field 3) and the start time after boot in clock ticks (field 22). */
function readStat(pid: number): { state: string; ticks: string } | 'none' | 'unreadable' {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH' ? 'none' : 'unreadable';
  }
  // the command name (field 2) is in parentheses and may hold spaces or parentheses itself
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return fields.length > 19 ? { state: fields[0], ticks: fields[19] } : 'unreadable';
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
