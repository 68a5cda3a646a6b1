/**
 * The quick class search (/ or c): type to filter the classes, arrows to choose, Enter assigns;
 * a name no class has yet offers to create it. For projects with more classes than number keys.
 */
import { useMemo, useState } from 'react';
import type { ClassInfo } from '../../../main/contract/calls-labels';
import { classKey } from './keys';

export type PickedClass = { kind: 'existing'; cls: ClassInfo } | { kind: 'create'; name: string };

export function ClassPicker({ classes, targets, onPick, onClose }: { classes: ClassInfo[]; targets: number; onPick: (picked: PickedClass) => void; onClose: () => void }) {
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const typed = query.trim();

  const options: PickedClass[] = useMemo(() => {
    const needle = typed.toLocaleLowerCase();
    const matches = classes.filter((c) => c.name.toLocaleLowerCase().includes(needle));
    // Names that start with what was typed come first: "ca" finds cat before pelican.
    matches.sort((a, b) => Number(!a.name.toLocaleLowerCase().startsWith(needle)) - Number(!b.name.toLocaleLowerCase().startsWith(needle)) || a.position - b.position);
    const list: PickedClass[] = matches.map((cls) => ({ kind: 'existing', cls }));
    const exists = classes.some((c) => c.name.toLocaleLowerCase() === needle);
    if (typed && !exists) list.push({ kind: 'create', name: typed });
    return list;
  }, [classes, typed]);

  const current = Math.min(active, options.length - 1);

  return (
    <div className="modal-backdrop light" onClick={onClose}>
      <div className="dialog class-picker" role="dialog" aria-label="Pick a class" data-testid="class-picker" onClick={(e) => e.stopPropagation()}>
        <input
          className="class-picker-input"
          autoFocus
          placeholder={`Label ${targets === 1 ? 'the image' : `${targets} images`} as… (type a class)`}
          value={query}
          data-testid="class-picker-input"
          onChange={(e) => {
            setQuery(e.target.value);
            setActive(0);
          }}
          onKeyDown={(e) => {
            if (e.key === 'ArrowDown') setActive((a) => Math.min(a + 1, options.length - 1));
            else if (e.key === 'ArrowUp') setActive((a) => Math.max(a - 1, 0));
            else if (e.key === 'Enter' && options[current]) onPick(options[current]);
            else if (e.key === 'Escape') onClose();
            else return;
            e.preventDefault();
            e.stopPropagation();
          }}
        />
        <ul className="class-picker-list" role="listbox">
          {options.map((option, i) => (
            <li key={option.kind === 'create' ? '+create' : option.cls.id}>
              <button
                className={`class-picker-option${i === current ? ' active' : ''}`}
                role="option"
                aria-selected={i === current}
                onMouseEnter={() => setActive(i)}
                onClick={() => onPick(option)}
                data-testid={option.kind === 'create' ? 'class-picker-create' : 'class-picker-option'}
              >
                {option.kind === 'existing' ? (
                  <>
                    <span className="swatch" style={{ background: option.cls.color }} />
                    <span className="class-picker-name">{option.cls.name}</span>
                    <span className="muted small">{option.cls.count.toLocaleString('en-US')}</span>
                    {classKey(classes.indexOf(option.cls)) !== null && <kbd>{classKey(classes.indexOf(option.cls))}</kbd>}
                  </>
                ) : (
                  <>
                    <span className="class-picker-plus">+</span>
                    <span className="class-picker-name">
                      Create class “{option.name}”
                    </span>
                  </>
                )}
              </button>
            </li>
          ))}
          {options.length === 0 && <li className="muted small class-picker-empty">No classes yet: type a name to create one.</li>}
        </ul>
      </div>
    </div>
  );
}
