/**
 * out/metrics.jsonl, the log train.py appends to: a "start" line (and a "resume" line for every
 * restart from the checkpoint) saying where it runs, one "epoch" line per finished epoch, and a
 * "done" line when the final weights are written. A resumed run drops the epoch lines after its
 * checkpoint, so every epoch appears once; read here line by line with the schema.
 */
import fs from 'node:fs';
import { z } from 'zod';
import { ApiError } from '../contract/contract';

const Where = z.object({
  hosts: z.array(z.string()),
  worldSize: z.number().int(),
  nodes: z.number().int(),
  device: z.string(),
  deviceType: z.string(),
  torch: z.string(),
  cuda: z.string().nullable(),
  python: z.string().nullable(),
  impl: z.string(),
  amp: z.boolean(),
  backend: z.string().nullable(),
});

const StartLine = Where.extend({ event: z.enum(['start', 'resume']), fromEpoch: z.number().int(), epochs: z.number().int(), batchPerProcess: z.number().int(), at: z.string() });
const EpochLine = z.object({
  event: z.literal('epoch'),
  epoch: z.number().int().min(0),
  trainLoss: z.number().nullable(),
  trainAcc: z.number().nullable(),
  valLoss: z.number().nullable(),
  valAcc: z.number().nullable(),
  lr: z.number(),
  batch: z.number().int().min(1),
  seconds: z.number(),
  imagesPerSecond: z.number(),
  worldSize: z.number().int(),
  device: z.string(),
  torch: z.string(),
  at: z.string(),
});
const DoneLine = Where.extend({ event: z.literal('done'), reason: z.string(), bestEpoch: z.number().int().nullable(), final: z.string(), at: z.string() });

export type StartLine = z.infer<typeof StartLine>;
export type EpochLine = z.infer<typeof EpochLine>;
export type DoneLine = z.infer<typeof DoneLine>;

export interface MetricsLog {
  starts: StartLine[];
  epochs: EpochLine[];
  done: DoneLine | null;
}

export function readMetricsLog(file: string): MetricsLog {
  if (!fs.existsSync(file)) throw new ApiError('invalid_input', `${file} does not exist: has train.py run in this bundle? (it writes out/metrics.jsonl)`);
  const log: MetricsLog = { starts: [], epochs: [], done: null };
  const byEpoch = new Map<number, EpochLine>();
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, index) => {
      if (!line.trim()) return;
      let json: { event?: unknown };
      try {
        json = JSON.parse(line);
      } catch {
        // a line cut short by a kill is the only one that can be partial: the last
        return;
      }
      const schema = json.event === 'epoch' ? EpochLine : json.event === 'done' ? DoneLine : json.event === 'start' || json.event === 'resume' ? StartLine : null;
      if (!schema) return;
      const parsed = schema.safeParse(json);
      if (!parsed.success) throw new ApiError('invalid_input', `${file} line ${index + 1} (${String(json.event)}): ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      const value = parsed.data;
      if (value.event === 'epoch') byEpoch.set(value.epoch, value as EpochLine);
      else if (value.event === 'done') log.done = value as DoneLine;
      else log.starts.push(value as StartLine);
    });
  log.epochs = [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
  return log;
}
