/**
 * `node --import tsx provider-probe-child.ts <provider>`: tries one ONNX Runtime execution provider
 * in a process of its own (started by provider-probe.ts, which names it in EFFITUNE_PROBE_PROVIDER:
 * the process launcher passes no arguments), because a GPU runtime that fails while loading can
 * abort the process. Creates a session on the probe graph with only that provider, runs it, checks
 * the answer, and prints one line, PROVIDER_PROBE_MARKER + JSON, on stdout.
 */
import { ProviderName } from '../contract/calls-inference';
import { findWebGpuAdapter } from '../backend/webgpu-dawn';
import { maxAbsDifference, probeGraph } from './probe-graph';
import { PROVIDER_PROBE_ENV, PROVIDER_PROBE_MARKER, type ChildProbe } from './provider-probe-protocol';

const name = ProviderName.safeParse(process.env[PROVIDER_PROBE_ENV] || process.argv[2]);
if (!name.success) {
  process.stderr.write(`provider-probe-child: unknown provider "${process.env[PROVIDER_PROBE_ENV] ?? process.argv[2]}"; known: ${ProviderName.options.join(', ')}\n`);
  process.exit(2);
}

async function probe(provider: ProviderName): Promise<ChildProbe> {
  let device: string | null = null;
  let software = false;
  if (provider === 'webgpu') {
    // ONNX Runtime's WebGPU provider takes Dawn's default adapter and does not say which; Dawn,
    // asked the same way, names it and tells a software one (SwiftShader) from a GPU.
    const adapter = await findWebGpuAdapter().catch(() => null);
    if (adapter) ({ device, software } = adapter);
  }
  const ort = await import('onnxruntime-node');
  const graph = probeGraph();
  const session = await ort.InferenceSession.create(graph.bytes, { executionProviders: [provider], graphOptimizationLevel: 'all' });
  try {
    const result = await session.run({ x: new ort.Tensor('float32', graph.input, graph.dims) });
    const difference = maxAbsDifference(result.y.data as Float32Array, graph.expected);
    if (!(difference < 1e-4)) return { loads: false, software, device, error: `it computed a 3×3 convolution wrongly (largest difference ${difference})` };
    return { loads: true, software, device, error: null };
  } finally {
    await session.release();
  }
}

/** ONNX Runtime's messages start with its source location and the failed check; the sentence after them is what a user needs. */
function conciseError(message: string): string {
  const first = message.split('\n')[0];
  const sentence = first.split(/ was (?:false|true)\. /).at(-1) ?? first;
  return sentence.replace(/^\/onnxruntime_src\/\S+ /, '').slice(0, 400);
}

const result = await probe(name.data).catch((err: Error): ChildProbe => ({ loads: false, software: false, device: null, error: conciseError(err.message) }));
// Exit explicitly: a GPU runtime's threads must not keep the probe (and the doctor) waiting.
process.stdout.write(`${PROVIDER_PROBE_MARKER}${JSON.stringify(result)}\n`, () => process.exit(0));
