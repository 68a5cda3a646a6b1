/**
 * The relay across real processes, as the desktop app uses it but under plain Node (the Electron
 * binary cannot be installed here): this test process plays the Electron main process (it serves
 * relay requests, launching with forkLauncher where the app uses utilityProcess), and a worker it
 * starts (test/fixtures/relay-worker.ts, in the trainer's slot) plays a utility process that starts
 * workers of its own through the default launcher, which is then the relay. Checked: the relayed
 * child is this process's child, not the worker's; messages both ways; stdout and stderr; exit
 * codes and signals; kill; the real backend probe through the relay; a worker's own channel
 * never sees a relay envelope; and a worker killed with SIGKILL leaves no relayed child running.
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { forkLauncher, tsxLauncher, WORKER_SOURCES, workerEnv, type LaunchedWorker, type ProcessLauncher, type WorkerEntry, type WorkerExit } from '../../main/workers/process-launcher';
import { relayHostLauncher } from '../../main/workers/relay-host';
import { RELAY_KEY } from '../../main/workers/relay-protocol';

const require = createRequire(import.meta.url);
const FIXTURE = fileURLToPath(new URL('../fixtures/relay-worker.ts', import.meta.url));
const tsxArgs = ['--import', pathToFileURL(require.resolve('tsx')).href];

interface Started {
  entry: WorkerEntry;
  pid: number | null;
  exit: Promise<WorkerExit>;
}

/** What the host launches: the fixture in the trainer's slot, the real entries otherwise; each launch recorded with its exit. */
function hostLauncher(started: Started[]): ProcessLauncher {
  const fixture = forkLauncher({ ...WORKER_SOURCES, trainer: FIXTURE }, tsxArgs);
  const real = tsxLauncher();
  return relayHostLauncher((entry, options) => {
    const worker = (entry === 'trainer' ? fixture : real)(entry, options);
    started.push({ entry, pid: worker.pid, exit: new Promise((resolve) => worker.onExit((exit) => resolve(exit))) });
    return worker;
  });
}

type Event = Record<string, any> & { event: string };

/** A started fixture and what it has said. */
class Fixture {
  readonly events: Event[] = [];
  readonly exited: Promise<WorkerExit>;
  private waiters: (() => void)[] = [];
  constructor(readonly worker: LaunchedWorker) {
    worker.onMessage((message) => {
      this.events.push(message as Event);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.exited = new Promise((resolve) => worker.onExit((exit) => resolve(exit)));
  }
  command(message: Record<string, unknown>): void {
    this.worker.send(message);
  }
  /** The first event that matches, waiting for it. */
  async next(match: (event: Event) => boolean, what: string, timeoutMs = 30_000): Promise<Event> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs / 1000} s; events: ${JSON.stringify(this.events).slice(0, 2000)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const fixtures: Fixture[] = [];
afterEach(() => {
  for (const fixture of fixtures.splice(0)) fixture.worker.kill('SIGKILL');
});

function start(started: Started[]): Fixture {
  const fixture = new Fixture(hostLauncher(started)('trainer', { env: workerEnv() }));
  fixtures.push(fixture);
  return fixture;
}

describe('a worker that starts workers of its own, through the process that started it', () => {
  it('gets a child of the host that talks both ways, prints, exits with its code and is killed with its signal', async () => {
    const started: Started[] = [];
    const parent = start(started);
    const hello = await parent.next((e) => e.event === 'hello', "the worker's hello");
    expect(hello.relay).toBe('1');
    expect(hello.ppid).toBe(process.pid);

    parent.command({ cmd: 'launch', ref: 1, entry: 'trainer' });
    const childHello = (await parent.next((e) => e.event === 'message' && e.ref === 1 && e.message.event === 'hello', "the relayed child's hello")).message;
    // the host started it (the worker asked): its parent is this process, and it is served the relay too
    expect(childHello.ppid).toBe(process.pid);
    expect(childHello.relay).toBe('1');
    expect(started.map((s) => [s.entry, s.pid])).toEqual([
      ['trainer', hello.pid],
      ['trainer', childHello.pid],
    ]);

    parent.command({ cmd: 'send', ref: 1, message: { cmd: 'echo', value: { nested: [1, 'two', null], text: 'é' } } });
    const echo = await parent.next((e) => e.event === 'message' && e.ref === 1 && e.message.event === 'echo', 'the echo');
    expect(echo.message.value).toEqual({ nested: [1, 'two', null], text: 'é' });

    parent.command({ cmd: 'send', ref: 1, message: { cmd: 'print', stdout: 'out: héllo\n', stderr: 'err: wörld\n' } });
    await parent.next((e) => e.event === 'message' && e.ref === 1 && e.message.event === 'printed', 'the print');
    parent.command({ cmd: 'send', ref: 1, message: { cmd: 'exit', code: 3 } });
    const exit = await parent.next((e) => e.event === 'exit' && e.ref === 1, "the relayed child's exit");
    expect(exit).toMatchObject({ code: 3, signal: null, error: null, pid: childHello.pid });
    const output = (stream: string) => parent.events.filter((e) => e.event === 'output' && e.ref === 1 && e.stream === stream).map((e) => e.text).join('');
    expect(output('stdout')).toBe('out: héllo\n');
    expect(output('stderr')).toBe('err: wörld\n');
    expect(await started[1].exit).toEqual({ code: 3, signal: null });

    parent.command({ cmd: 'launch', ref: 2, entry: 'trainer' });
    await parent.next((e) => e.event === 'message' && e.ref === 2 && e.message.event === 'hello', 'the second child');
    parent.command({ cmd: 'kill', ref: 2, signal: 'SIGTERM' });
    expect(await parent.next((e) => e.event === 'exit' && e.ref === 2, 'the killed child')).toMatchObject({ code: null, signal: 'SIGTERM' });

    // neither side's own channel saw a relay envelope
    expect(parent.events.filter((e) => e.event === 'stray' || RELAY_KEY in e)).toEqual([]);
    expect(parent.events.filter((e) => e.event === 'message' && (e.message.event === 'stray' || RELAY_KEY in e.message))).toEqual([]);
  }, 90_000);

  it("runs the real backend probe through the relay: its result, and a probe's exit code and last words", async () => {
    const started: Started[] = [];
    const parent = start(started);
    await parent.next((e) => e.event === 'hello', "the worker's hello");
    parent.command({ cmd: 'probe', ref: 1, backend: 'cpu' });
    parent.command({ cmd: 'probe', ref: 2, backend: 'no-such-backend' });
    const cpu = await parent.next((e) => e.event === 'probed' && e.ref === 1, 'the cpu probe', 60_000);
    expect(cpu.loads, cpu.failure).toBe(true);
    const bad = await parent.next((e) => e.event === 'probed' && e.ref === 2, 'the failing probe', 60_000);
    expect(bad.loads).toBeNull();
    expect(bad.failure).toMatch(/^the probe process exited with code 2: probe-child: unknown backend "no-such-backend"/);
    expect(started.map((s) => s.entry).sort()).toEqual(['probe', 'probe', 'trainer']);
  }, 90_000);

  it('killed with SIGKILL, leaves none of its relayed children running', async () => {
    const started: Started[] = [];
    const parent = start(started);
    await parent.next((e) => e.event === 'hello', "the worker's hello");
    parent.command({ cmd: 'launch', ref: 1, entry: 'trainer' });
    parent.command({ cmd: 'launch', ref: 2, entry: 'trainer' });
    const pids = await Promise.all(
      [1, 2].map(async (ref) => (await parent.next((e) => e.event === 'message' && e.ref === ref && e.message.event === 'hello', `child ${ref}`)).message.pid as number),
    );
    expect(pids.every(alive)).toBe(true);

    parent.worker.kill('SIGKILL');
    expect(await parent.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const childExits = await Promise.all(started.slice(1).map((s) => s.exit));
    expect(childExits).toEqual([
      { code: null, signal: 'SIGKILL' },
      { code: null, signal: 'SIGKILL' },
    ]);
    expect(pids.filter(alive)).toEqual([]);
  }, 90_000);
});
