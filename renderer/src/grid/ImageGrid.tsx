/**
 * The virtualized thumbnail grid: only the rows on screen (plus a few) are in the DOM, and only
 * their pages of `images.list` are fetched, so 50,000 images scroll like 50.
 */
import { memo, useEffect, useLayoutEffect, useRef, useState, useSyncExternalStore } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { ImageSummary } from '../../../main/api/contract';
import type { ImagePages } from './image-pages';
import { baseName } from '../paths';

const MIN_TILE_WIDTH = 148;
const GAP = 8;
const CAPTION_HEIGHT = 30;

export function ImageGrid({
  pages,
  thumbUrl,
  classColor,
  selectedIndex,
  onOpen,
}: {
  pages: ImagePages;
  thumbUrl: (id: number) => string;
  classColor: (classId: number | null) => string | undefined;
  selectedIndex: number | null;
  onOpen: (index: number) => void;
}) {
  useSyncExternalStore(pages.subscribe, pages.getVersion);
  const scrollRef = useRef<HTMLDivElement>(null);
  const width = useElementWidth(scrollRef);
  const columns = Math.max(1, Math.floor((width - GAP) / (MIN_TILE_WIDTH + GAP)));
  const tileWidth = width > 0 ? Math.floor((width - GAP) / columns) - GAP : MIN_TILE_WIDTH;
  const rowHeight = tileWidth + CAPTION_HEIGHT + GAP;
  const total = pages.total ?? 0;
  const rowCount = Math.ceil(total / columns);

  const virtualizer = useVirtualizer({
    count: rowCount,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => rowHeight,
    // Few extra rows: every tile scrolled in costs a thumbnail decode and raster.
    overscan: 2,
    paddingStart: GAP,
    paddingEnd: GAP,
    // React 19 warns about flushSync inside lifecycle methods; the grid does not need it.
    useFlushSync: false,
  });

  useEffect(() => {
    virtualizer.measure();
  }, [virtualizer, rowHeight]);

  const rows = virtualizer.getVirtualItems();
  const firstIndex = rows.length ? rows[0].index * columns : 0;
  const lastIndex = rows.length ? Math.min(total, (rows[rows.length - 1].index + 1) * columns) - 1 : 0;
  useEffect(() => {
    pages.request(firstIndex, lastIndex);
  }, [pages, firstIndex, lastIndex]);

  // Keep the image the detail view shows in sight, so closing it lands where the user is.
  useEffect(() => {
    if (selectedIndex !== null && columns > 0) virtualizer.scrollToIndex(Math.floor(selectedIndex / columns), { align: 'auto' });
  }, [selectedIndex, columns, virtualizer]);

  return (
    <div className="grid-scroll" ref={scrollRef} data-testid="grid" data-total={pages.total ?? ''} tabIndex={-1}>
      {pages.total === 0 && <div className="grid-empty muted">No images match.</div>}
      <div className="grid-canvas" style={{ height: virtualizer.getTotalSize() }}>
        {rows.map((row) => (
          <div key={row.key} className="grid-row" style={{ transform: `translateY(${row.start}px)`, height: rowHeight, gap: GAP, paddingInline: GAP }}>
            {Array.from({ length: columns }, (_, col) => {
              const index = row.index * columns + col;
              if (index >= total) return null;
              const image = pages.get(index);
              return (
                <Tile
                  key={col}
                  index={index}
                  image={image}
                  width={tileWidth}
                  thumbUrl={thumbUrl}
                  color={image ? classColor(image.classId) : undefined}
                  selected={index === selectedIndex}
                  onOpen={onOpen}
                />
              );
            })}
          </div>
        ))}
      </div>
    </div>
  );
}

const Tile = memo(function Tile({
  index,
  image,
  width,
  thumbUrl,
  color,
  selected,
  onOpen,
}: {
  index: number;
  image: ImageSummary | undefined;
  width: number;
  thumbUrl: (id: number) => string;
  color: string | undefined;
  selected: boolean;
  onOpen: (index: number) => void;
}) {
  if (!image) return <div className="tile tile-loading" style={{ width }} aria-hidden />;
  const name = baseName(image.path);
  return (
    <button
      className={`tile tile-${image.status}${image.missing ? ' tile-missing' : ''}${selected ? ' selected' : ''}`}
      style={{ width }}
      onClick={() => onOpen(index)}
      title={image.path}
      data-testid="grid-tile"
      data-index={index}
      data-image-id={image.id}
      data-status={image.status}
    >
      <div className="tile-media" style={{ height: width }}>
        {image.hasThumbnail ? (
          <img src={thumbUrl(image.id)} loading="lazy" decoding="async" alt={name} draggable={false} />
        ) : (
          <div className="tile-reason">
            <strong>{image.status === 'rejected' ? 'Rejected' : image.status === 'duplicate' ? 'Duplicate' : image.missing ? 'Missing' : 'No preview'}</strong>
            {image.reason && <span>{image.reason}</span>}
          </div>
        )}
        {image.missing && <span className="tile-badge">missing</span>}
      </div>
      <div className="tile-caption">
        {(image.className || image.status === 'ok') && (
          <span className={`label-chip${image.className ? '' : ' unlabeled'}`} style={color ? { background: color } : undefined} data-testid="tile-label">
            {image.className ?? 'unlabeled'}
          </span>
        )}
        <span className="tile-name">{name}</span>
      </div>
    </button>
  );
});

function useElementWidth(ref: React.RefObject<HTMLElement | null>): number {
  const [width, setWidth] = useState(0);
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    setWidth(element.clientWidth);
    const observer = new ResizeObserver(() => setWidth(element.clientWidth));
    observer.observe(element);
    return () => observer.disconnect();
  }, [ref]);
  return width;
}
