/**
 * The virtualized thumbnail grid: only the rows on screen (plus a few) are in the DOM, and only
 * their pages of `images.list` are fetched, so 50,000 images scroll like 50. The grid holds the
 * keyboard focus itself (a listbox whose focused tile is its active descendant) and passes keys
 * and clicks up; each tile shows its class (name and colour), split and an excluded badge.
 */
import { memo, useEffect, useLayoutEffect, useRef, useState, useSyncExternalStore } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { ImageSummary } from '../../../main/contract/contract';
import type { ImagePages } from './image-pages';
import { baseName } from '../paths';

const MIN_TILE_WIDTH = 148;
const GAP = 8;
const CAPTION_HEIGHT = 30;

export type TileClick = 'plain' | 'toggle' | 'range';

export function ImageGrid({
  pages,
  thumbUrl,
  classColor,
  focus,
  isSelected,
  onTileClick,
  onOpen,
  onKeyDown,
  focusRequest,
}: {
  pages: ImagePages;
  thumbUrl: (id: number) => string;
  classColor: (classId: number | null) => string | undefined;
  /** the focused position (keyboard cursor), kept in sight */
  focus: number | null;
  isSelected: (id: number, index: number) => boolean;
  onTileClick: (index: number, mode: TileClick) => void;
  onOpen: (index: number) => void;
  /** keys pressed while the grid has the focus; `columns` lets up/down move by a row */
  onKeyDown: (e: React.KeyboardEvent<HTMLDivElement>, columns: number) => void;
  /** bump to move the keyboard focus (back) into the grid, e.g. after a dialog closes */
  focusRequest: number;
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

  // Keep the focused image in sight: arrow keys, "next unlabeled" and the detail view move it.
  useEffect(() => {
    if (focus !== null && columns > 0) virtualizer.scrollToIndex(Math.floor(focus / columns), { align: 'auto' });
  }, [focus, columns, virtualizer]);

  useEffect(() => {
    if (focusRequest > 0) scrollRef.current?.focus({ preventScroll: true });
  }, [focusRequest]);

  // Tiles are not focusable themselves (they come and go while scrolling): the grid keeps the
  // keyboard focus and points at the focused tile with aria-activedescendant.
  const focusGrid = () => scrollRef.current?.focus({ preventScroll: true });

  return (
    <div
      className="grid-scroll"
      ref={scrollRef}
      data-testid="grid"
      data-total={pages.total ?? ''}
      data-focus={focus ?? ''}
      tabIndex={0}
      role="listbox"
      aria-multiselectable
      aria-label="Images"
      aria-activedescendant={focus !== null && pages.get(focus) ? `tile-${focus}` : undefined}
      onKeyDown={(e) => onKeyDown(e, columns)}
    >
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
                  focused={index === focus}
                  selected={image ? isSelected(image.id, index) : false}
                  onClick={(mode) => {
                    focusGrid();
                    onTileClick(index, mode);
                  }}
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

const Tile = memo(
  function Tile({
    index,
    image,
    width,
    thumbUrl,
    color,
    focused,
    selected,
    onClick,
    onOpen,
  }: {
    index: number;
    image: ImageSummary | undefined;
    width: number;
    thumbUrl: (id: number) => string;
    color: string | undefined;
    focused: boolean;
    selected: boolean;
    onClick: (mode: TileClick) => void;
    onOpen: (index: number) => void;
  }) {
    if (!image) return <div className="tile tile-loading" style={{ width }} aria-hidden />;
    const name = baseName(image.path);
    const excluded = image.excluded;
    return (
      <div
        id={`tile-${index}`}
        role="option"
        aria-selected={selected}
        className={`tile tile-${image.status}${image.missing ? ' tile-missing' : ''}${excluded ? ' tile-excluded' : ''}${selected ? ' selected' : ''}${focused ? ' focused' : ''}`}
        style={{ width }}
        // Shift-click would otherwise select the captions' text.
        onMouseDown={(e) => e.shiftKey && e.preventDefault()}
        onClick={(e) => onClick(e.shiftKey ? 'range' : e.ctrlKey || e.metaKey ? 'toggle' : 'plain')}
        onDoubleClick={() => onOpen(index)}
        title={image.path}
        data-testid="grid-tile"
        data-index={index}
        data-image-id={image.id}
        data-status={image.status}
        data-class={image.className ?? ''}
        data-excluded={excluded}
        data-split={image.split ?? ''}
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
          {excluded && (
            <span className="tile-badge tile-badge-excluded" data-testid="tile-excluded" title="Excluded from training and evaluation (x to include again)">
              excluded
            </span>
          )}
          {image.split && image.status === 'ok' && <span className={`tile-split split-${image.split}`}>{image.split}</span>}
        </div>
        <div className="tile-caption">
          {(image.className || image.status === 'ok') && (
            <span className={`label-chip${image.className ? '' : ' unlabeled'}`} style={color ? { background: color } : undefined} data-testid="tile-label">
              {image.className ?? 'unlabeled'}
            </span>
          )}
          <span className="tile-name">{name}</span>
        </div>
      </div>
    );
  },
  // onClick is a new closure each render; what it does depends only on the index.
  (a, b) => a.index === b.index && a.image === b.image && a.width === b.width && a.color === b.color && a.focused === b.focused && a.selected === b.selected && a.thumbUrl === b.thumbUrl && a.onOpen === b.onOpen,
);

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
