/**
 * The custom families of a project (scale.families, newest first): coefficient sets kept from a
 * compound-scaling search, which the Model tab's custom panel offers. Read when the panel opens
 * (the Lab and the Model tab are never on screen together, so a fresh read on opening is current).
 */
import { useEffect, useState } from 'react';
import { useClient, useReportError } from '../api/client-context';
import type { ScalingFamily } from '../../../main/contract/calls-scaling';

export function useFamilies(project: string | undefined): ScalingFamily[] {
  const client = useClient();
  const reportError = useReportError();
  const [families, setFamilies] = useState<ScalingFamily[]>([]);
  useEffect(() => {
    if (!project) return;
    let current = true;
    client.call('scale.families', { project }).then(
      (result) => current && setFamilies(result.families),
      (err) => current && reportError(err, 'Cannot list the scaling families'),
    );
    return () => {
      current = false;
    };
  }, [client, project, reportError]);
  return families;
}

/** The family a custom scaling is (same α, β, γ and base), if any. */
export function familyOf(families: ScalingFamily[], scaling: { alpha: number; beta: number; gamma: number; basePhi?: number }): ScalingFamily | null {
  return families.find((f) => f.alpha === scaling.alpha && f.beta === scaling.beta && f.gamma === scaling.gamma && f.basePhi === (scaling.basePhi ?? 0)) ?? null;
}
