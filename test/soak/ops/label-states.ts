/**
 * Labels are judged per edit: over the images an edit touches, the labels must be exactly the
 * state before it or exactly the state after it. Anything in between is a partial edit.
 */
export type LabelState = 'before' | 'after' | 'partial';

export function labelState(current: Map<string, string | null>, before: Map<string, string | null>, after: Map<string, string | null>): { state: LabelState; differing: number } {
  let matchesBefore = true;
  let matchesAfter = true;
  let differing = 0;
  for (const [path, wanted] of after) {
    const now = current.get(path) ?? null;
    if (now !== (before.get(path) ?? null)) matchesBefore = false;
    if (now !== wanted) {
      matchesAfter = false;
      differing++;
    }
  }
  return { state: matchesAfter ? 'after' : matchesBefore ? 'before' : 'partial', differing };
}
