/**
 * The confusion matrix as a standalone SVG for the model card: rows = true class, columns =
 * predicted class, each cell coloured by its share of the row (so small classes read as well as
 * large ones) and labelled with its count.
 */
export function confusionMatrixSvg(classes: readonly string[], confusion: readonly (readonly number[])[], title: string): string {
  const n = classes.length;
  const cell = n <= 10 ? 44 : n <= 25 ? 28 : 18;
  const font = Math.max(8, Math.min(13, cell * 0.32));
  const longest = Math.max(4, ...classes.map((c) => c.length));
  const labelSpace = Math.min(220, Math.round(longest * font * 0.62) + 12);
  const left = labelSpace + 24;
  const top = labelSpace + 40;
  const width = left + n * cell + 16;
  const height = top + n * cell + 16;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${left + (n * cell) / 2}" y="${top - labelSpace - 4}" font-size="${font}" text-anchor="middle" fill="#555">predicted class</text>`,
    `<text transform="translate(12 ${top + (n * cell) / 2}) rotate(-90)" font-size="${font}" text-anchor="middle" fill="#555">true class</text>`,
  ];
  classes.forEach((name, i) => {
    const y = top + i * cell + cell / 2;
    parts.push(`<text x="${left - 6}" y="${y}" font-size="${font}" text-anchor="end" dominant-baseline="middle">${escapeXml(clip(name))}</text>`);
    const x = left + i * cell + cell / 2;
    parts.push(`<text transform="translate(${x} ${top - 6}) rotate(-60)" font-size="${font}" text-anchor="start" dominant-baseline="middle">${escapeXml(clip(name))}</text>`);
  });
  confusion.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    row.forEach((count, j) => {
      const share = total > 0 ? count / total : 0;
      const x = left + j * cell;
      const y = top + i * cell;
      parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${colour(share, i === j)}" stroke="#ddd"/>`);
      if (count > 0) {
        parts.push(`<text x="${x + cell / 2}" y="${y + cell / 2}" font-size="${font}" text-anchor="middle" dominant-baseline="middle" fill="${share > 0.55 ? '#fff' : '#111'}">${count}</text>`);
      }
    });
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** Blue on the diagonal (right), red off it (mistakes), stronger with the share of the row. */
function colour(share: number, diagonal: boolean): string {
  const [r, g, b] = diagonal ? [31, 90, 180] : [196, 40, 40];
  const mix = (c: number) => Math.round(255 - (255 - c) * share);
  return `rgb(${mix(r)}, ${mix(g)}, ${mix(b)})`;
}

function clip(name: string): string {
  return name.length > 32 ? `${name.slice(0, 31)}…` : name;
}

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
