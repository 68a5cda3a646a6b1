/**
 * Saving a chart or heatmap for a report: the SVG element serialized as a standalone .svg file,
 * or drawn onto a canvas and saved as .png. The page styles SVGs with CSS classes, which a file
 * does not carry, so the presentation properties are copied inline from the computed style first.
 */

/** The properties that decide how an SVG chart looks; everything else keeps its SVG default. */
const INLINED = ['fill', 'fill-opacity', 'stroke', 'stroke-width', 'stroke-dasharray', 'stroke-opacity', 'opacity', 'font-family', 'font-size', 'font-weight', 'text-anchor', 'dominant-baseline', 'visibility'];

/** A title and legend drawn above a chart whose legend is HTML (LineChart's figcaption). */
export interface FigureHeading {
  title: string;
  legend: { label: string; stroke: string; dash: string }[];
}

const HEADING_PX = 26;

/** The heading of a LineChart figure, read from its caption and the computed colours of its legend. */
export function readHeading(figure: Element): FigureHeading | null {
  const title = figure.querySelector('.chart-title')?.textContent;
  if (!title) return null;
  const legend = Array.from(figure.querySelectorAll('.chart-legend .legend-item')).map((item) => {
    const line = item.querySelector('line');
    const style = line ? getComputedStyle(line) : null;
    return { label: item.textContent ?? '', stroke: style?.stroke ?? '#000', dash: style?.strokeDasharray ?? 'none' };
  });
  return { title, legend };
}

/** A standalone copy of `svg` (xmlns set, styles inline, white background) as SVG text. */
export function serializeSvg(svg: SVGSVGElement, heading: FigureHeading | null = null): string {
  const copy = svg.cloneNode(true) as SVGSVGElement;
  const originals = [svg, ...Array.from(svg.querySelectorAll('*'))];
  const copies = [copy, ...Array.from(copy.querySelectorAll('*'))];
  originals.forEach((element, i) => {
    const computed = getComputedStyle(element);
    const style = INLINED.map((name) => `${name}:${computed.getPropertyValue(name)}`).join(';');
    copies[i].setAttribute('style', style);
  });
  const { width, height } = figureSize(svg, heading);
  copy.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  copy.setAttribute('width', String(width));
  copy.setAttribute('height', String(height));
  copy.setAttribute('viewBox', `0 0 ${width} ${height}`);
  if (heading) {
    // Shift the plot down and draw the heading in the room made above it.
    const plot = document.createElementNS(SVG_NS, 'g');
    plot.setAttribute('transform', `translate(0 ${HEADING_PX})`);
    while (copy.firstChild) plot.appendChild(copy.firstChild);
    copy.appendChild(plot);
    copy.appendChild(headingGroup(heading));
  }
  const background = document.createElementNS(SVG_NS, 'rect');
  background.setAttribute('width', '100%');
  background.setAttribute('height', '100%');
  background.setAttribute('fill', '#ffffff');
  copy.insertBefore(background, copy.firstChild);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(copy)}`;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

function headingGroup({ title, legend }: FigureHeading): SVGGElement {
  const group = document.createElementNS(SVG_NS, 'g');
  group.setAttribute('style', 'font-family:system-ui,sans-serif;font-size:12px;fill:#1d2430');
  const text = (x: number, content: string, weight = '400') => {
    const t = document.createElementNS(SVG_NS, 'text');
    t.setAttribute('x', String(x));
    t.setAttribute('y', '17');
    t.setAttribute('font-weight', weight);
    t.textContent = content;
    group.appendChild(t);
  };
  text(8, title, '600');
  let x = 8 + title.length * 8 + 16;
  for (const item of legend) {
    const line = document.createElementNS(SVG_NS, 'line');
    line.setAttribute('x1', String(x));
    line.setAttribute('x2', String(x + 18));
    line.setAttribute('y1', '13');
    line.setAttribute('y2', '13');
    line.setAttribute('style', `stroke:${item.stroke};stroke-width:2;stroke-dasharray:${item.dash}`);
    group.appendChild(line);
    text(x + 22, item.label);
    x += 22 + item.label.length * 6.5 + 14;
  }
  return group;
}

function figureSize(svg: SVGSVGElement, heading: FigureHeading | null): { width: number; height: number } {
  const { width, height } = svgSize(svg);
  return heading ? { width, height: height + HEADING_PX } : { width, height };
}

function svgSize(svg: SVGSVGElement): { width: number; height: number } {
  const width = Number(svg.getAttribute('width')) || svg.getBoundingClientRect().width;
  const height = Number(svg.getAttribute('height')) || svg.getBoundingClientRect().height;
  return { width: Math.ceil(width), height: Math.ceil(height) };
}

export function downloadBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.appendChild(link);
  link.click();
  link.remove();
  // The download has started from the URL; revoking later keeps slow browsers from losing it.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function saveSvg(svg: SVGSVGElement, baseName: string, heading: FigureHeading | null = null): void {
  downloadBlob(new Blob([serializeSvg(svg, heading)], { type: 'image/svg+xml' }), `${baseName}.svg`);
}

/** The SVG drawn at twice its size (sharp text in documents) onto a canvas, saved as PNG. */
export async function savePng(svg: SVGSVGElement, baseName: string, heading: FigureHeading | null = null, scale = 2): Promise<void> {
  const { width, height } = figureSize(svg, heading);
  const url = URL.createObjectURL(new Blob([serializeSvg(svg, heading)], { type: 'image/svg+xml' }));
  try {
    const image = new Image();
    image.decoding = 'sync';
    await new Promise<void>((resolve, reject) => {
      image.onload = () => resolve();
      image.onerror = () => reject(new Error('the browser could not draw the chart as an image'));
      image.src = url;
    });
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const context = canvas.getContext('2d');
    if (!context) throw new Error('this browser has no 2D canvas to draw the PNG on');
    context.scale(scale, scale);
    context.drawImage(image, 0, 0, width, height);
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
    if (!blob) throw new Error('the browser could not encode the PNG');
    downloadBlob(blob, `${baseName}.png`);
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** A file name from words: "Run 3 test confusion" → "run-3-test-confusion". */
export function fileSlug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '') || 'figure';
}
