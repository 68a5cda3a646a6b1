/**
 * Preloaded (`node --import`) into a CLI the soak starts with a kill point (cli.ts startCli
 * `killAt`, passed as EFFITUNE_SOAK_KILL_AT): the process sends itself SIGKILL just before the
 * chosen node:fs call runs, e.g. the rename that puts a new folder in place. A kill from outside
 * cannot be timed into a step that lasts microseconds; this one lands exactly there, and is still a
 * real kill -9 (no handler, no finally, no exit hook runs). The app's modules use `fs.renameSync(…)`
 * through node:fs's default export, so replacing the function on that object reaches them.
 */
import fs from 'node:fs';

const spec = JSON.parse(process.env.EFFITUNE_SOAK_KILL_AT ?? 'null');
if (spec) {
  const pattern = new RegExp(spec.pattern);
  const original = fs[spec.call];
  if (typeof original !== 'function') throw new Error(`EFFITUNE_SOAK_KILL_AT: node:fs has no function ${spec.call}`);
  let seen = 0;
  fs[spec.call] = function killAtCall(...args) {
    const candidates = spec.arg === undefined ? args : [args[spec.arg]];
    if (candidates.some((a) => typeof a === 'string' && pattern.test(a)) && ++seen === (spec.nth ?? 1)) process.kill(process.pid, 'SIGKILL');
    return original.apply(this, args);
  };
}
