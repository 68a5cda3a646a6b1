/**
 * The relay (main/workers/relay-*.ts) in one process: the worker's relay launcher and the host's
 * server joined back to back by a channel that copies every message through JSON (as
 * child_process's channel does), the host launching stand-in workers it controls by hand. What a
 * relayed worker reports (pid, messages both ways, output bytes, exit code and signal, kill), what
 * the host refuses in words, that relay envelopes never reach a worker protocol's listeners, that
 * a worker's children are killed when it ends, and which launcher a process gets by default.
 * test/integration/worker-relay.test.ts runs the same across real processes.
 */
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { defaultLauncherKind, type LaunchedWorker, type ProcessLauncher, type WorkerEntry, type WorkerExit } from '../../main/workers/process-launcher';
import { relayHostLauncher, relayServer } from '../../main/workers/relay-host';
import { relayLauncher } from '../../main/workers/relay-launcher';
import { envelope, RELAY_ENV, RELAY_KEY } from '../../main/workers/relay-protocol';

/** A worker the test drives: what it was sent, how it was killed, and buttons for what it says and does. */
class StandIn implements LaunchedWorker {
  static nextPid = 5000;
  readonly pid = StandIn.nextPid++;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly sent: unknown[] = [];
  readonly kills: (NodeJS.Signals | undefined)[] = [];
  private readonly events = new EventEmitter();
  constructor(
    readonly entry: WorkerEntry,
    readonly env: Record<string, string | undefined>,
  ) {}
  send(message: unknown) {
    this.sent.push(message);
  }
  kill(signal?: NodeJS.Signals) {
    this.kills.push(signal);
  }
  onMessage(listener: (message: unknown) => void) {
    this.events.on('message', listener);
  }
  onExit(listener: (exit: WorkerExit, error?: Error) => void) {
    this.events.once('exit', listener);
  }
  say(message: unknown) {
    this.events.emit('message', message);
  }
  end(exit: WorkerExit) {
    this.stdout.end();
    this.stderr.end();
    this.events.emit('exit', exit);
  }
}

function standIns(): { launcher: ProcessLauncher; started: StandIn[] } {
  const started: StandIn[] = [];
  return {
    started,
    launcher: (entry, options) => {
      const worker = new StandIn(entry, options.env);
      started.push(worker);
      return worker;
    },
  };
}

/** A worker-side relay launcher served by a host-side server over a JSON-copying, asynchronous channel. */
function joined(hostLauncher: ProcessLauncher) {
  const toWorker = new EventEmitter();
  const server = relayServer((message) => setImmediate(() => toWorker.emit('message', JSON.parse(JSON.stringify(message)))), hostLauncher);
  let listening = 0;
  const launcher = relayLauncher({
    send: (message) =>
      setImmediate(() => {
        server.handle(JSON.parse(JSON.stringify(message)));
      }),
    listen: (listener) => {
      listening++;
      toWorker.on('message', listener);
      return () => {
        listening--;
        toWorker.off('message', listener);
      };
    },
    connected: () => true,
  });
  return { launcher, listening: () => listening };
}

const until = async (check: () => boolean, what: string) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
};

function exitOf(worker: LaunchedWorker): Promise<{ exit: WorkerExit; error?: Error }> {
  return new Promise((resolve) => worker.onExit((exit, error) => resolve({ exit, error })));
}

describe('a worker launched through the relay', () => {
  it('reports its pid, messages both ways, its output byte for byte, and its exit code', async () => {
    const host = standIns();
    const relay = joined(host.launcher);
    const worker = relay.launcher('probe', { env: { PROBE: 'wasm', DROPPED: undefined } });
    const received: unknown[] = [];
    worker.onMessage((message) => received.push(message));
    let stdout = Buffer.alloc(0);
    worker.stdout!.on('data', (chunk: Buffer) => (stdout = Buffer.concat([stdout, chunk])));
    const exited = exitOf(worker);

    await until(() => host.started.length === 1 && worker.pid !== null, 'the launch');
    const [child] = host.started;
    expect(child.entry).toBe('probe');
    expect(child.env).toEqual({ PROBE: 'wasm' });
    expect(worker.pid).toBe(child.pid);
    expect(relay.listening()).toBe(1);

    worker.send({ type: 'start', nested: [1, 'two'] });
    await until(() => child.sent.length === 1, 'the message to reach the child');
    expect(child.sent).toEqual([{ type: 'start', nested: [1, 'two'] }]);

    child.say({ type: 'progress', step: 3 });
    const bytes = Buffer.from([0x00, 0xff, 0xc3, 0xa9, 0x0a]);
    child.stdout.write(bytes.subarray(0, 3));
    child.stdout.write(bytes.subarray(3));
    child.stderr.write('warning\n');
    await until(() => received.length === 1 && stdout.length === bytes.length, 'the message and the output');
    expect(received).toEqual([{ type: 'progress', step: 3 }]);
    expect(stdout.equals(bytes)).toBe(true);

    child.end({ code: 3, signal: null });
    expect(await exited).toEqual({ exit: { code: 3, signal: null }, error: undefined });
    // nothing left alive keeps the worker's channel listened to
    expect(relay.listening()).toBe(0);
  });

  it('hands an exit to a listener that comes after it, and its output ends', async () => {
    const host = standIns();
    const relay = joined(host.launcher);
    const worker = relay.launcher('estimator', { env: {} });
    const ended = new Promise((resolve) => worker.stderr!.on('end', resolve).resume());
    await until(() => host.started.length === 1, 'the launch');
    host.started[0].end({ code: null, signal: 'SIGSEGV' });
    await ended;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await exitOf(worker)).toEqual({ exit: { code: null, signal: 'SIGSEGV' }, error: undefined });
  });

  it('is killed with the signal asked for (SIGKILL when none is named)', async () => {
    const host = standIns();
    const relay = joined(host.launcher);
    const worker = relay.launcher('trainer', { env: {} });
    worker.kill('SIGTERM');
    worker.kill();
    await until(() => host.started[0]?.kills.length === 2, 'the kills');
    expect(host.started[0].kills).toEqual(['SIGTERM', 'SIGKILL']);
  });

  it('that the host cannot start ends with the reason, as a fork that could not spawn does', async () => {
    const relay = joined(() => {
      throw new Error('utilityProcess.fork: no such file out/electron/probe.js');
    });
    const worker = relay.launcher('probe', { env: {} });
    const { exit, error } = await exitOf(worker);
    expect(exit).toEqual({ code: null, signal: null });
    expect(error?.message).toBe('cannot start the probe worker: utilityProcess.fork: no such file out/electron/probe.js');
  });

  it('cannot start when the channel to the host is closed, and says so', async () => {
    const launcher = relayLauncher({ send: () => undefined, listen: () => () => undefined, connected: () => false });
    const { error } = await exitOf(launcher('predictor', { env: {} }));
    expect(error?.message).toMatch(/cannot start the predictor worker: the channel .* is closed/);
  });
});

describe('the relay host', () => {
  it('refuses, in words, a launch of something that is not a worker entry, and a reused id', () => {
    const host = standIns();
    const replies: unknown[] = [];
    const server = relayServer((message) => replies.push(message), host.launcher);
    expect(server.handle(envelope({ op: 'launch', id: 7, entry: 'sh' as WorkerEntry, env: {} }))).toBe(true);
    expect(server.handle(envelope({ op: 'launch', id: 8, entry: 'probe', env: { A: 1 as unknown as string } }))).toBe(true);
    expect(server.handle(envelope({ op: 'launch', id: 9, entry: 'probe', env: {} }))).toBe(true);
    expect(server.handle(envelope({ op: 'launch', id: 9, entry: 'probe', env: {} }))).toBe(true);
    expect(host.started).toHaveLength(1);
    const exits = replies.map((r) => (r as Record<string, { op: string; id: number; error?: string }>)[RELAY_KEY]).filter((r) => r.op === 'exit');
    expect(exits.map((r) => [r.id, r.error])).toEqual([
      [7, expect.stringMatching(/"sh" is not a worker entry \(trainer, estimator, probe, provider-probe, predictor\)/)],
      [8, expect.stringMatching(/env is not an object of strings/)],
      [9, 'cannot start the probe worker: relay id 9 is already in use'],
    ]);
  });

  it("leaves the worker's own messages to it: envelopes go to the relay, the rest to the worker's listeners", () => {
    const host = standIns();
    const server = relayServer(() => undefined, host.launcher);
    expect(server.handle({ type: 'started', info: {} })).toBe(false);
    expect(server.handle({ type: 'progress', [`${RELAY_KEY}x`]: 1 })).toBe(false);
    expect(server.handle(envelope({ op: 'kill', id: 1, signal: 'SIGKILL' }))).toBe(true);
  });

  it("tells each worker it serves the relay, keeps the relay's envelopes from the caller, and serves relayed workers' own launches", async () => {
    const host = standIns();
    const launch = relayHostLauncher(host.launcher);
    const worker = launch('trainer', { env: { KEEP: 'yes' } });
    const seen: unknown[] = [];
    worker.onMessage((message) => seen.push(message));
    const [trainer] = host.started;
    expect(trainer.env).toEqual({ KEEP: 'yes', [RELAY_ENV]: '1' });
    expect(worker.pid).toBe(trainer.pid);

    trainer.say({ type: 'started', info: {} });
    trainer.say(envelope({ op: 'launch', id: 1, entry: 'probe', env: { [RELAY_ENV]: '1', PROBE: 'cpu' } }));
    expect(seen).toEqual([{ type: 'started', info: {} }]);
    const probe = host.started[1];
    expect(probe.entry).toBe('probe');
    expect(trainer.sent).toEqual([envelope({ op: 'started', id: 1, pid: probe.pid })]);

    // the probe is served as well: its own launch is answered to it, not to the trainer
    probe.say(envelope({ op: 'launch', id: 1, entry: 'provider-probe', env: {} }));
    expect(host.started[2].entry).toBe('provider-probe');
    expect(probe.sent).toEqual([envelope({ op: 'started', id: 1, pid: host.started[2].pid })]);

    probe.say({ type: 'from the probe' });
    expect(trainer.sent.at(-1)).toEqual(envelope({ op: 'message', id: 1, message: { type: 'from the probe' } }));
    worker.send({ type: 'cancel' });
    expect(trainer.sent.at(-1)).toEqual({ type: 'cancel' });
  });

  it("kills a worker's relayed children when the worker ends, and starts none for it afterwards", async () => {
    const host = standIns();
    const launch = relayHostLauncher(host.launcher);
    const worker = launch('trainer', { env: {} });
    const exited = exitOf(worker);
    const [trainer] = host.started;
    trainer.say(envelope({ op: 'launch', id: 1, entry: 'probe', env: {} }));
    trainer.say(envelope({ op: 'launch', id: 2, entry: 'probe', env: {} }));
    const [, first, second] = host.started;
    first.end({ code: 0, signal: null });
    trainer.end({ code: null, signal: 'SIGKILL' });
    expect(await exited).toEqual({ exit: { code: null, signal: 'SIGKILL' }, error: undefined });
    // the one still running is killed; the one that had ended is left alone
    expect(first.kills).toEqual([]);
    expect(second.kills).toEqual(['SIGKILL']);
    trainer.say(envelope({ op: 'launch', id: 3, entry: 'probe', env: {} }));
    expect(host.started).toHaveLength(3);
    expect(await exitOf(worker)).toEqual({ exit: { code: null, signal: 'SIGKILL' }, error: undefined });
  });
});

describe('the launcher a process gets when none is installed', () => {
  it('is the relay where the parent offers one, tsx under plain Node, and none inside Electron without a relay', () => {
    expect(defaultLauncherKind({ relayOffered: true, channelOpen: true, electron: true })).toBe('relay');
    expect(defaultLauncherKind({ relayOffered: true, channelOpen: true, electron: false })).toBe('relay');
    expect(defaultLauncherKind({ relayOffered: true, channelOpen: false, electron: false })).toBe('tsx');
    expect(defaultLauncherKind({ relayOffered: false, channelOpen: true, electron: false })).toBe('tsx');
    expect(defaultLauncherKind({ relayOffered: false, channelOpen: true, electron: true })).toBe('refuse');
    expect(defaultLauncherKind({ relayOffered: true, channelOpen: false, electron: true })).toBe('refuse');
  });
});
