/** "SVG" and "PNG" buttons that save the first <svg> inside a container (a chart or the heatmap). */
import type { RefObject } from 'react';
import { useReportError } from '../api/client-context';
import { fileSlug, readHeading, savePng, saveSvg } from './save-figure';

export function SaveFigureButtons({ container, name, testId }: { container: RefObject<HTMLElement | null>; name: string; testId?: string }) {
  const reportError = useReportError();
  // The heatmap marks its SVG; a LineChart's plot is the SVG in its frame (its legend has small ones).
  const find = (): SVGSVGElement | null => container.current?.querySelector<SVGSVGElement>('svg.figure-svg') ?? container.current?.querySelector<SVGSVGElement>('.plot-frame svg') ?? null;
  const save = async (kind: 'svg' | 'png') => {
    const svg = find();
    if (!svg) return reportError(new Error('there is no chart on screen to save'), `Cannot save ${name}`);
    try {
      const figure = svg.closest('figure');
      const heading = figure && !svg.classList.contains('figure-svg') ? readHeading(figure) : null;
      if (kind === 'svg') saveSvg(svg, fileSlug(name), heading);
      else await savePng(svg, fileSlug(name), heading);
    } catch (err) {
      reportError(err, `Cannot save ${name} as ${kind.toUpperCase()}`);
    }
  };
  return (
    <span className="save-figure" data-testid={testId}>
      <button type="button" className="button small" onClick={() => void save('svg')} title={`Save ${name} as SVG`} data-testid={testId ? `${testId}-svg` : undefined}>
        SVG
      </button>
      <button type="button" className="button small" onClick={() => void save('png')} title={`Save ${name} as PNG`} data-testid={testId ? `${testId}-png` : undefined}>
        PNG
      </button>
    </span>
  );
}
