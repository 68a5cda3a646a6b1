/**
 * The default recipe, fitted to the data. The fixed defaults of config.ts are the ImageNet
 * fine-tuning recipe: the model's own resolution, random resized crops down to 8 % of the area,
 * colour jitter, 15–30 epochs. From scratch on small images that learns slowly (28 px images
 * enlarged to 224 px and then cropped to a few pixels of their content). This module looks at the
 * project (image size, grayscale, how many images and classes) and picks the defaults that suit it,
 * each with its reason in words. It only fills what the caller left out: config.ts applies a
 * choice only where the option is undefined (augmentation: only when the caller gave no settings at
 * all, since the contract completes a partial choice), and the reasons name only what differs from
 * the fixed defaults.
 *
 * Rules (s = median shorter side of the images, N = training images, K = classes):
 *   resolution  from scratch: the smallest multiple of 16 ≥ s (at least 32), when below the model's;
 *               with weights: the smallest multiple of 32 ≥ 2·s (at least 64), when below the model's
 *               (pretrained filters were tuned on ImageNet's object scale, a moderate enlargement helps them)
 *   crops       s ≤ 48: at least 70 % of the area, aspect 0.9–1.11; s ≤ 128: at least 40 %;
 *               fewer than 100 images per class: at least 25 %; else ImageNet's 8 %
 *   colour      grayscale images: no saturation jitter (brightness and contrast stay)
 *   batch       top/full with under 1,000 training images: 16 (under 200: 8), for more updates per pass
 *   epochs      from scratch (top/full): about 1,000 optimizer steps and 16,000 images seen, whichever
 *               is more, 30..100 epochs (steps alone gave the batch-8 imbalanced bench set 40 epochs,
 *               half the images the batch-16 sets see: balanced accuracy 0.42, below the two-layer
 *               CNN's 0.445; 80 epochs 0.47 against its 0.38, 100 epochs 0.69 against 0.37),
 *               with, under 1,000 training images, patience epochs/2 (at least 8; a quarter stopped the
 *               imbalanced bench set at epoch 15 of 40 with balanced accuracy 0.30, the whole schedule
 *               reached 0.42) and, from 40 epochs,
 *               a warm-up of 5 % of the run (warm-up epochs never count towards patience: epoch-end.ts)
 *   lr          from scratch with under 1,000 training images: 5e-3 (warm-up and cosine decay keep it stable);
 *               from weights (top/full) with under 1,000 training images: 1e-3, not the fixed 1e-4: such a
 *               run makes a few hundred optimizer steps, too few at 1e-4 for the pretrained layers to fit
 *               the new classes (the bench's stand-in backbone on 28 px shapes: 0.84 test accuracy at 1e-4,
 *               plateaued from epoch 19 of 30; 0.975 at 1e-3, against 0.96 from scratch)
 *   regularizers from scratch with under 1,000 training images: no label smoothing, no stochastic depth,
 *               dropout 0.1: such a run underfits long before it overfits (augmentation and early
 *               stopping guard against that), and each of these slows the first epochs
 * The from-scratch choices were measured with `npm run bench -- recipe` (test/bench/recipe.ts): on the
 * 28 px grayscale set (100 images per class, 120 s) the fixed-regularizer recipe at 2e-3 reached 0.31–0.63
 * test accuracy in 40 s, this one 0.66 in 40 s and 0.91 in 120 s (a two-layer CNN 0.66, logistic 0.29).
 */
import type { Augmentation } from '../contract/calls-data';
import type { TrainMode } from '../contract/calls-train';
import type { VariantSpec } from '../model/variants';

export type ImageChannels = 'gray' | 'colour' | 'unknown';

/** What recipe-data.ts measures of a project's usable labeled images. */
export interface DataProfile {
  images: number;
  /** median of min(width, height), pixels as shown */
  shortSide: number;
  longSide: number;
  channels: ImageChannels;
  /** how the channels were decided, in words */
  channelsBasis: string;
}

export interface RecipeInput {
  profile: DataProfile;
  trainImages: number;
  classes: number;
  mode: TrainMode;
  variant: VariantSpec;
  pretrained: boolean;
  /** the fixed recipe's epochs for this mode (config.ts), which a fitted choice is told against */
  defaultEpochs: number;
  /** the options the caller set (the recipe chooses only the others) */
  given: {
    resolution?: number;
    epochs?: number;
    lr?: number;
    batch?: number;
    warmupEpochs?: number;
    patience?: number;
    labelSmoothing?: number;
    dropout?: number;
    dropConnect?: number;
    augment?: Partial<Augmentation> | false;
  };
}

/** Defaults chosen for this data; undefined = keep the fixed default. */
export interface RecipeChoice {
  resolution?: number;
  epochs?: number;
  lr?: number;
  batch?: number;
  warmupEpochs?: number;
  patience?: number;
  labelSmoothing?: number;
  dropout?: number;
  dropConnect?: number;
  /** augmentation defaults for this data, under the caller's own settings */
  augment: Partial<Augmentation>;
  /** what was chosen and why, in words, for the setup, the CLI and the run's notes */
  reasons: string[];
}

export const TINY_IMAGE_SIDE = 48;
export const SMALL_IMAGE_SIDE = 128;
export const FEW_IMAGES_PER_CLASS = 100;
/** optimizer steps a from-scratch run is given by default, and at least this many images seen */
export const SCRATCH_STEPS = 1000;
export const SCRATCH_IMAGES_SEEN = 16_000;
export const SCRATCH_EPOCHS = { min: 30, max: 100 } as const;
/** below these many training images the batch is 8, below SMALL_DATA_IMAGES 16 (else the memory estimate's, at most 32) */
export const TINY_DATA_IMAGES = 200;
export const SMALL_DATA_IMAGES = 1000;
/** from this many epochs the warm-up is 5 % of the run instead of one epoch */
export const LONG_RUN_EPOCHS = 40;
/** the least patience (epochs without a better validation loss) of a from-scratch run */
export const SCRATCH_PATIENCE_MIN = 8;
/** peak learning rate from scratch on small data (under SMALL_DATA_IMAGES training images) */
export const SMALL_SCRATCH_LR = 5e-3;
/** dropout before the classifier from scratch on small data */
export const SMALL_SCRATCH_DROPOUT = 0.1;
/** peak learning rate fine-tuning pretrained weights (top/full) on small data */
export const SMALL_FINETUNE_LR = 1e-3;
/** the most the automatic batch (memory estimate) gives, to count steps per epoch with */
const LARGEST_AUTO_BATCH = 32;

export function chooseRecipe(input: RecipeInput): RecipeChoice {
  const { profile, trainImages, classes, mode, variant, pretrained, defaultEpochs, given } = input;
  const reasons: string[] = [];
  const choice: RecipeChoice = { augment: {}, reasons };
  const s = profile.shortSide;
  const size = profile.shortSide === profile.longSide ? `${s}×${s} px` : `about ${s} px on the shorter side`;

  if (given.resolution === undefined) {
    const target = pretrained ? Math.max(64, 32 * Math.ceil((2 * s) / 32)) : Math.max(32, 16 * Math.ceil(s / 16));
    if (target < variant.resolution) {
      choice.resolution = target;
      const why = pretrained
        ? `up to twice their size, since pretrained filters expect ImageNet's object scale; more adds no detail`
        : `enlarging adds no detail and costs ${Math.round((variant.resolution / target) ** 2)}× the compute per image`;
      reasons.push(`resolution ${target} px, not ${variant.name}'s ${variant.resolution}: the images are ${size} (median of ${profile.images}); ${why}`);
    }
  }

  // train.start's parsing fills every augmentation default once the caller gives any setting, so a
  // given augmentation object is the caller's whole choice: the recipe changes none of it
  if (mode !== 'head' && given.augment === undefined) {
    const perClass = trainImages / Math.max(1, classes);
    if (s <= TINY_IMAGE_SIDE) {
      Object.assign(choice.augment, { scaleMin: 0.7, ratioMin: 0.9, ratioMax: 1 / 0.9 });
      reasons.push(`mild crops (at least 70 % of the area, aspect 0.9–1.1) instead of ImageNet's 8 %: at ${s} px a small crop keeps only a few pixels of the subject`);
    } else if (s <= SMALL_IMAGE_SIDE) {
      choice.augment.scaleMin = 0.4;
      reasons.push(`crops of at least 40 % of the area instead of ImageNet's 8 %: the images are small (${size})`);
    } else if (perClass < FEW_IMAGES_PER_CLASS) {
      choice.augment.scaleMin = 0.25;
      reasons.push(`crops of at least 25 % of the area instead of ImageNet's 8 %: with ${Math.round(perClass)} training images per class (${classes} classes) a crop must keep enough of the subject to learn from`);
    }
    if (profile.channels === 'gray') {
      choice.augment.saturation = 0;
      reasons.push(`no saturation jitter: the images are grayscale (${profile.channelsBasis}); brightness and contrast jitter stay`);
    } else if (profile.channels === 'unknown') {
      reasons.push(`colour jitter kept: whether the images are grayscale is not known (${profile.channelsBasis})`);
    }
  }

  let batch = given.batch;
  if (mode !== 'head' && batch === undefined && trainImages < SMALL_DATA_IMAGES) {
    batch = trainImages < TINY_DATA_IMAGES ? 8 : 16;
    choice.batch = batch;
    reasons.push(`batch ${batch}: ${trainImages} training images (under ${trainImages < TINY_DATA_IMAGES ? TINY_DATA_IMAGES : SMALL_DATA_IMAGES}) make only ${Math.ceil(trainImages / LARGEST_AUTO_BATCH)} step${Math.ceil(trainImages / LARGEST_AUTO_BATCH) === 1 ? '' : 's'} per epoch at batch ${LARGEST_AUTO_BATCH}; a smaller batch makes ${Math.ceil(trainImages / batch)} updates of the same pass`);
  }

  if (pretrained && mode !== 'head' && trainImages < SMALL_DATA_IMAGES && given.lr === undefined) {
    const perStep = Math.min(batch ?? LARGEST_AUTO_BATCH, trainImages);
    const epochs = given.epochs ?? defaultEpochs;
    const steps = epochs * Math.ceil(trainImages / perStep);
    choice.lr = SMALL_FINETUNE_LR;
    reasons.push(`learning rate ${SMALL_FINETUNE_LR}, not 0.0001: with ${trainImages} training images (under ${SMALL_DATA_IMAGES}) the run makes only ${steps} optimizer steps (${epochs} epochs at batch ${perStep}), too few at 0.0001 for the pretrained layers to fit the new classes; the warm-up and the cosine decay keep the first and last steps small`);
  }

  if (!pretrained && mode !== 'head') {
    const perStep = Math.min(batch ?? LARGEST_AUTO_BATCH, trainImages);
    const stepsPerEpoch = Math.ceil(trainImages / perStep);
    let epochs = given.epochs;
    if (epochs === undefined) {
      const bySteps = Math.ceil(SCRATCH_STEPS / stepsPerEpoch);
      const bySeen = Math.ceil(SCRATCH_IMAGES_SEEN / trainImages);
      epochs = Math.min(SCRATCH_EPOCHS.max, Math.max(SCRATCH_EPOCHS.min, bySteps, bySeen));
      choice.epochs = epochs;
      const why =
        bySeen > bySteps
          ? `from scratch a model needs to see about ${SCRATCH_IMAGES_SEEN.toLocaleString('en-US')} images (and make ${SCRATCH_STEPS} optimizer steps), and there are ${trainImages} training images`
          : `from scratch a model needs about ${SCRATCH_STEPS} optimizer steps, and ${trainImages} training images make ${stepsPerEpoch} step${stepsPerEpoch === 1 ? '' : 's'} per epoch at batch ${perStep}`;
      if (epochs !== defaultEpochs) reasons.push(`${epochs} epochs: ${why} (${SCRATCH_EPOCHS.min}–${SCRATCH_EPOCHS.max} epochs)`);
    }
    if (given.patience === undefined && trainImages < SMALL_DATA_IMAGES) {
      choice.patience = Math.max(SCRATCH_PATIENCE_MIN, Math.round(epochs / 2));
      reasons.push(`early stopping after ${choice.patience} epochs without a better validation loss (half the run, at least ${SCRATCH_PATIENCE_MIN}), not 5: a from-scratch run's validation loss swings and has long plateaus, and on few images it often learns only once the cosine decay lowers the rate`);
    }
    if (given.warmupEpochs === undefined && epochs >= LONG_RUN_EPOCHS) {
      choice.warmupEpochs = Math.round(epochs * 0.05);
      reasons.push(`${choice.warmupEpochs} warm-up epochs (5 % of the run): one epoch of ${stepsPerEpoch} steps is too short a warm-up from scratch`);
    }
    if (trainImages < SMALL_DATA_IMAGES) {
      if (given.lr === undefined) {
        choice.lr = SMALL_SCRATCH_LR;
        reasons.push(`learning rate ${SMALL_SCRATCH_LR}, not 0.001: with ${trainImages} training images (under ${SMALL_DATA_IMAGES}) from scratch, a higher peak rate reaches a useful model in fewer epochs; the warm-up and the cosine decay keep it stable`);
      }
      const off: string[] = [];
      if (given.labelSmoothing === undefined) {
        choice.labelSmoothing = 0;
        off.push('no label smoothing');
      }
      if (given.dropConnect === undefined && variant.dropConnect > 0) {
        choice.dropConnect = 0;
        off.push('no stochastic depth');
      }
      if (given.dropout === undefined && variant.dropout > SMALL_SCRATCH_DROPOUT) {
        choice.dropout = SMALL_SCRATCH_DROPOUT;
        off.push(`dropout ${SMALL_SCRATCH_DROPOUT} instead of ${variant.dropout}`);
      }
      if (off.length > 0) reasons.push(`${off.join(', ')}: a short run from scratch on ${trainImages} images underfits long before it overfits (augmentation and early stopping guard against that), and these regularizers slow its first epochs`);
    }
  }
  return choice;
}
