/**
 * Head and top modes train only the last layers and keep the rest of the backbone frozen. Without
 * pretrained weights that frozen part is random, and a classifier on random features learns little
 * beyond chance (tried: B0 head mode on 10 classes, 10 % accuracy after two minutes, shown as a
 * success). Such a run is refused before it starts, with the two ways out, unless the caller asks
 * for it in so many words (allowRandomBackbone: experiments, tests of the machinery).
 */
import { ApiError } from '../contract/contract';
import type { TrainConfig } from '../contract/calls-train';

export function refuseRandomBackbone(config: Pick<TrainConfig, 'mode' | 'weights' | 'model'>, allowRandomBackbone: boolean | undefined): void {
  if (config.weights !== null || config.mode === 'full' || allowRandomBackbone === true) return;
  const frozen = config.mode === 'head' ? 'the whole backbone' : 'every block below the top ones';
  // a custom φ has no published weights: only an imported file or an earlier run's model fits it
  const cli = config.model.startsWith('phi=') ? '`effitune weights import <file>`' : `\`effitune weights download ${config.model} --notop\``;
  throw new ApiError(
    'invalid_input',
    `weights: mode ${config.mode} keeps ${frozen} frozen, and without pretrained weights that backbone is random: the run would learn little beyond chance. ` +
      `Either give pretrained weights (download or import them in the Model tab, or ${cli}, then choose them as the run's weights; an earlier run's model folder works too), ` +
      'or use mode full to train every layer from scratch',
    { field: 'weights', mode: config.mode, ways: ['weights', 'mode full'] },
  );
}
