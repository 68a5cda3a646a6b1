/**
 * What the model picker and `effitune models` show per variant: the honest figures from
 * estimates.ts joined with what the weights cache holds and what can be downloaded.
 */
import type { ArchitectureFigures, LocalWeights, PretrainedFile, VariantFigures } from '../../contract/calls-models';
import type { CallArgs, CallOutput } from '../../contract/contract';
import { describeVariant, describeVariants } from '../estimates';
import { customVariant, flopsGrowthPerPhi, getVariant } from '../variants';
import { catalogueWithStatus } from './catalogue';
import type { WeightsStore } from './weights-store';

export function listVariantFigures(batch: number, store: WeightsStore): CallOutput<'models.list'> {
  const local = store.list();
  const catalogue = catalogueWithStatus(store.catalogue, local);
  return { batch, variants: describeVariants(batch).map((f) => withWeights(f, local, catalogue)) };
}

export function describeOneVariant(args: CallArgs<'models.describe'>, store: WeightsStore): CallOutput<'models.describe'> {
  const variant = args.custom ? customVariant(args.custom) : getVariant(args.variant!);
  const figures = describeVariant(variant, args.batch, { resolution: args.resolution });
  const local = store.list();
  const scaling = variant.scaling
    ? { ...variant.scaling, flopsGrowthPerPhi: flopsGrowthPerPhi(variant.scaling.alpha, variant.scaling.beta, variant.scaling.gamma) }
    : null;
  return { ...withWeights(figures, local, catalogueWithStatus(store.catalogue, local)), scaling };
}

function withWeights(figures: ArchitectureFigures, local: LocalWeights[], catalogue: PretrainedFile[]): VariantFigures {
  return {
    ...figures,
    weights: local.filter((w) => w.variant === figures.id),
    pretrained: catalogue.filter((f) => f.variant === figures.id),
  };
}
