/**
 * The figures: per operation (the hand-off's export and import apart) how many kills, how many cut
 * mid-work, corrupt, lost, recoveries.
 */
import type { Outcome } from './context';

interface Figures {
  trials: number;
  kills: number;
  midWork: number;
  corrupt: number;
  lost: number;
  recovered: number;
}

export class Tally {
  private readonly byOp = new Map<string, Figures>();

  add(op: string, o: Outcome): void {
    const f = this.byOp.get(op) ?? { trials: 0, kills: 0, midWork: 0, corrupt: 0, lost: 0, recovered: 0 };
    f.trials++;
    if (o.killed) f.kills++;
    if (o.midWork) f.midWork++;
    f.corrupt += o.corrupt.length;
    f.lost += o.lost.length;
    f.recovered += o.recovered;
    this.byOp.set(op, f);
  }

  total(): Figures {
    const t = { trials: 0, kills: 0, midWork: 0, corrupt: 0, lost: 0, recovered: 0 };
    for (const f of this.byOp.values()) for (const k of Object.keys(t) as (keyof Figures)[]) t[k] += f[k];
    return t;
  }

  lines(): string[] {
    const out: string[] = [];
    for (const [op, f] of this.byOp) {
      out.push(`${op.padEnd(14)} ${f.trials} runs, ${f.kills} killed (${f.midWork} after part of the work was committed), ${f.corrupt} corrupt, ${f.lost} lost, ${f.recovered} recovered (re-import / resume / sweep)`);
    }
    const t = this.total();
    out.push(`kills ${t.kills}, corrupt ${t.corrupt}, lost ${t.lost}`);
    return out;
  }
}
