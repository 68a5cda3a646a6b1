/** Undo and redo, each naming the edit it will undo or redo (from the persisted journal). */
import type { Labeling } from './use-labeling';

export function UndoRedoButtons({ labeling }: { labeling: Labeling }) {
  const journal = labeling.journal;
  return (
    <span className="undo-redo">
      <button
        className="button small"
        disabled={!journal?.canUndo}
        onClick={() => void labeling.undo()}
        title={journal?.undoSummary ? `Undo: ${journal.undoSummary} (Ctrl+Z)` : 'Nothing to undo'}
        data-testid="undo"
      >
        ↶ Undo{journal?.undoSummary ? <span className="undo-summary">{journal.undoSummary}</span> : null}
      </button>
      <button
        className="button small"
        disabled={!journal?.canRedo}
        onClick={() => void labeling.redo()}
        title={journal?.redoSummary ? `Redo: ${journal.redoSummary} (Ctrl+Shift+Z)` : 'Nothing to redo'}
        data-testid="redo"
      >
        ↷ Redo{journal?.redoSummary ? <span className="undo-summary">{journal.redoSummary}</span> : null}
      </button>
    </span>
  );
}
