import type { Command } from '../command';
import { numberOrText } from '../numbers';
import { resolvePathArg } from '../paths';
import { fromFlags } from '../user-input';
import { formatImportResult } from './import';

export const sampleCommand: Command = {
  words: ['sample'],
  args: ['file'],
  optionsUsage: '[--images-per-class N]',
  summary: 'Create a sample project of generated shapes, to see the app working without data of your own',
  details: ['--images-per-class N   generated images per class (default 24)'],
  options: { 'images-per-class': { type: 'string' } },
  fields: { path: '<file>', imagesPerClass: '--images-per-class' },
  async run({ positionals: [file], values, client }) {
    const result = await client().call('sample.create', fromFlags({
      path: resolvePathArg(file),
      imagesPerClass: numberOrText(values['images-per-class']),
    }));
    const text = [`Created sample project "${result.project.name}" at ${result.project.path}`, `  images generated in ${result.folder}`, '', formatImportResult(result.import)].join('\n');
    return { json: result, text };
  },
};
