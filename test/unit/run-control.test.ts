/** Pause, resume and cancel at the gate between steps, and the active clock that leaves pauses out (images/s, epoch times). */
import { describe, expect, it } from 'vitest';
import { RunCancelled, RunControl } from '../../main/train/control';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('RunControl', () => {
  it('holds a paused run at the gate, and its active clock stands still meanwhile', async () => {
    const control = new RunControl();
    const said: string[] = [];
    const hooks = { onPause: () => said.push('paused'), onResume: () => said.push('running') };
    const before = control.activeNow();
    await control.gate(hooks); // not paused: passes at once
    control.pause();
    const held = control.gate(hooks);
    await sleep(300);
    // while paused the clock barely moves
    expect(control.activeNow() - before).toBeLessThan(150);
    control.resume();
    await held;
    expect(said).toEqual(['paused', 'running']);
    const afterPause = control.activeNow() - before;
    expect(afterPause).toBeLessThan(150);
    // and runs on with the wall clock once resumed
    await sleep(100);
    expect(control.activeNow() - before - afterPause).toBeGreaterThanOrEqual(90);
  });

  it('a cancel ends a pause with RunCancelled, and the paused time is still left out', async () => {
    const control = new RunControl();
    const before = control.activeNow();
    control.pause();
    const held = control.gate({ onPause: () => undefined, onResume: () => undefined });
    await sleep(200);
    control.cancel('cancelled by the user');
    await expect(held).rejects.toBeInstanceOf(RunCancelled);
    expect(control.activeNow() - before).toBeLessThan(100);
  });
});
