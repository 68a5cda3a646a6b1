/**
 * What the run would train with, before it starts: train.plan resolves the options as train.start
 * would (the default recipe fitted to this project's images fills what the form leaves open) and
 * says why each fitted choice differs from the fixed defaults, and counts a step's memory on the
 * backend the run would take (`memoryOn`: the probe's pick where the form leaves it). Asked again, debounced, when the
 * options or the split change; only the latest answer counts.
 */
import { useEffect, useRef, useState } from 'react';
import { errorMessage, useClient } from '../api/client-context';
import type { BackendName } from '../../../main/contract/calls-backend';
import type { TrainOptions, TrainPlan } from '../../../main/contract/calls-train';

const PLAN_DELAY_MS = 300;

export function RecipeChoices({ project, options, memoryOn, invalid, splitKey, onPlan }: { project: string; options: TrainOptions; memoryOn?: BackendName; invalid: boolean; splitKey: string; onPlan?: (plan: TrainPlan | null) => void }) {
  const client = useClient();
  const [plan, setPlan] = useState<TrainPlan | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const seq = useRef(0);
  const onPlanRef = useRef(onPlan);
  onPlanRef.current = onPlan;
  const key = JSON.stringify({ options, memoryOn, splitKey });
  useEffect(() => {
    if (invalid) return;
    const mine = ++seq.current;
    const timer = setTimeout(() => {
      client.call('train.plan', { project, ...(JSON.parse(key) as { options: TrainOptions }).options, ...(memoryOn ? { memoryOn } : {}) }).then(
        (answer) => mine === seq.current && (setPlan(answer), setProblem(null), onPlanRef.current?.(answer)),
        (err) => mine === seq.current && (setPlan(null), setProblem(errorMessage(err)), onPlanRef.current?.(null)),
      );
    }, PLAN_DELAY_MS);
    return () => clearTimeout(timer);
  }, [client, project, key, invalid]);

  if (invalid) return null;
  if (problem) return <p className="muted small" data-testid="recipe-problem">Recipe: {problem}</p>;
  if (!plan) return null;
  const { config, recipe } = plan;
  return (
    <div className="recipe-choices" data-testid="recipe-choices">
      <p className="small">
        <strong>This run would train</strong> at {config.resolution} px for {config.epochs} epochs, batch {config.batch ?? 'auto'}, learning rate {config.lr}
        {config.weights ? ', from the chosen weights' : ', from scratch'}.
      </p>
      {recipe.length > 0 ? (
        <details open>
          <summary className="small">Fitted to your images ({recipe.length} choice{recipe.length === 1 ? '' : 's'})</summary>
          <ul className="small recipe-reasons" data-testid="recipe-reasons">
            {recipe.map((reason) => (
              <li key={reason}>{reason}</li>
            ))}
          </ul>
        </details>
      ) : (
        <p className="muted small">The fixed defaults fit these images (nothing to adapt).</p>
      )}
    </div>
  );
}
