/**
 * Pages of `images.list`, fetched on demand for the rows on screen and kept in a bounded cache, so
 * a 50,000-image project never loads more than a few thousand summaries. Stale pages (after the
 * project changed) stay visible until their fresh copy arrives, so a refresh does not flicker.
 */
import type { ImageSummary } from '../../../main/contract/contract';

export type FetchPage = (offset: number, limit: number) => Promise<{ total: number; items: ImageSummary[] }>;

interface Page {
  items: ImageSummary[] | null;
  /** generation of the data in `items`; older than `this.generation` means stale */
  loadedGeneration: number;
  inFlightGeneration: number | null;
  /** a failed page is not retried until the next generation, so an error cannot loop */
  failedGeneration: number | null;
  lastWanted: number;
}

export class ImagePages {
  total: number | null = null;
  /** bumps whenever something visible changes; the snapshot for useSyncExternalStore */
  version = 0;
  private readonly pages = new Map<number, Page>();
  private readonly listeners = new Set<() => void>();
  private generation = 0;
  private wanted: [number, number] = [0, 0];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private clock = 0;
  private stopped = false;

  constructor(
    private readonly fetchPage: FetchPage,
    private readonly onError: (err: unknown) => void,
    readonly pageSize = 200,
    /** 50 pages of 200 = 10,000 summaries at most in memory */
    private readonly maxPages = 50,
  ) {}

  get(index: number): ImageSummary | undefined {
    const page = this.pages.get(Math.floor(index / this.pageSize));
    return page?.items?.[index % this.pageSize];
  }

  /** The ids of every loaded image (to check many ids at once without a scan per id). */
  loadedIds(): Set<number> {
    const ids = new Set<number>();
    for (const page of this.pages.values()) for (const item of page.items ?? []) ids.add(item.id);
    return ids;
  }

  /** Where a loaded image sits in the list, or null when no loaded page holds it. */
  indexOfId(id: number): number | null {
    for (const [pageNo, page] of this.pages) {
      const at = page.items?.findIndex((item) => item.id === id) ?? -1;
      if (at >= 0) return pageNo * this.pageSize + at;
    }
    return null;
  }

  /**
   * The first index at or after `from` (wrapping around to the start) whose image passes `test`,
   * loading pages as needed; null when no image of the list passes.
   */
  async findFrom(from: number, test: (image: ImageSummary) => boolean): Promise<number | null> {
    const total = this.total ?? 0;
    for (let step = 0; step < total; ) {
      const index = (from + step) % total;
      const image = this.get(index) ?? (await this.ensure(index));
      if (image && test(image)) return index;
      step++;
    }
    return null;
  }

  /**
   * Ask for the rows [first, last]. Fetching waits a moment and then loads only what is still
   * wanted, so flinging through 50,000 rows does not queue a request for every page passed.
   */
  request(first: number, last: number): void {
    this.wanted = [Math.max(0, first), Math.max(first, last)];
    if (this.timer === null) this.timer = setTimeout(() => this.fetchWanted(), this.total === null ? 0 : 40);
  }

  /** Load the page holding `index` now (used by the detail view when it steps past the loaded rows). */
  async ensure(index: number): Promise<ImageSummary | undefined> {
    const pageNo = Math.floor(index / this.pageSize);
    await this.load(pageNo);
    return this.get(index);
  }

  /** Mark everything stale (the project changed); what is on screen is refetched. */
  invalidate(): void {
    this.generation++;
    this.request(...this.wanted);
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getVersion = (): number => this.version;

  /** Attach to the component that shows the pages (an effect; StrictMode may stop and start again). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.request(...this.wanted);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private fetchWanted(): void {
    this.timer = null;
    if (this.stopped) return;
    const [first, last] = this.wanted;
    const firstPage = Math.floor(first / this.pageSize);
    const lastPage = Math.floor(last / this.pageSize);
    for (let p = firstPage; p <= lastPage; p++) void this.load(p);
  }

  private async load(pageNo: number): Promise<void> {
    let page = this.pages.get(pageNo);
    if (!page) {
      page = { items: null, loadedGeneration: -1, inFlightGeneration: null, failedGeneration: null, lastWanted: 0 };
      this.pages.set(pageNo, page);
    }
    page.lastWanted = ++this.clock;
    const generation = this.generation;
    if (page.failedGeneration === generation) return;
    if (page.loadedGeneration === generation || page.inFlightGeneration === generation) return this.waitFor(page, generation);
    page.inFlightGeneration = generation;
    try {
      const result = await this.fetchPage(pageNo * this.pageSize, this.pageSize);
      if (generation >= page.loadedGeneration) {
        page.items = result.items;
        page.loadedGeneration = generation;
      }
      if (generation === this.generation) this.total = result.total;
      this.evict();
    } catch (err) {
      page.failedGeneration = generation;
      if (!this.stopped) this.onError(err);
    } finally {
      if (page.inFlightGeneration === generation) page.inFlightGeneration = null;
      // Notify on failure too, so anyone waiting for this page stops waiting.
      if (!this.stopped) this.changed();
    }
  }

  /** A second caller for a page already on its way waits for the same answer. */
  private waitFor(page: Page, generation: number): Promise<void> {
    if (page.loadedGeneration >= generation) return Promise.resolve();
    return new Promise((resolve) => {
      const unsubscribe = this.subscribe(() => {
        if (page.loadedGeneration >= generation || page.inFlightGeneration === null) {
          unsubscribe();
          resolve();
        }
      });
    });
  }

  private evict(): void {
    if (this.pages.size <= this.maxPages) return;
    const byAge = [...this.pages.entries()].filter(([, p]) => p.inFlightGeneration === null).sort((a, b) => a[1].lastWanted - b[1].lastWanted);
    for (const [pageNo] of byAge.slice(0, this.pages.size - this.maxPages)) this.pages.delete(pageNo);
  }

  private changed(): void {
    this.version++;
    for (const listener of [...this.listeners]) listener();
  }
}
