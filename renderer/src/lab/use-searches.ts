/**
 * The project's compound-scaling searches and the one open in the Lab: the list (scale.list,
 * newest first; the newest opens by default), the open search's report (scale.get), kept live by
 * the 'scale.updated' events — the changed candidate is patched in at once, and the whole report
 * (groups, Pareto fronts, verdict) is read again shortly after, once a burst of events has passed.
 * A search driven by another Effitune process sends this window no events: it is polled instead.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { useClient, useEvent, useReportError } from '../api/client-context';
import type { CallOutput } from '../../../main/contract/contract';
import type { Candidate, SearchReport } from '../../../main/contract/calls-scaling';

export type SearchSummary = CallOutput<'scale.list'>['searches'][number];

/** Events come in bursts (a candidate's state, then its run id): read the report once they settle. */
const REFETCH_DELAY_MS = 300;
/** How often a search that runs in another process is read again. */
const POLL_MS = 5000;

export interface Searches {
  list: SearchSummary[] | null;
  openId: number | null;
  report: SearchReport | null;
  open: (searchId: number) => void;
  /** a report an action answered with (start, resume, cancel): shown at once, the list read again */
  adopt: (report: SearchReport) => void;
  refresh: () => void;
}

export function useSearches(project: string): Searches {
  const client = useClient();
  const reportError = useReportError();
  const [list, setList] = useState<SearchSummary[] | null>(null);
  const [openId, setOpenId] = useState<number | null>(null);
  const [report, setReport] = useState<SearchReport | null>(null);
  const openRef = useRef<number | null>(null);
  openRef.current = openId;
  const reportRef = useRef<SearchReport | null>(null);
  reportRef.current = report;
  // Only the answer for the search open now counts: a slow reply for another must not land.
  const readSeq = useRef(0);

  const readList = useCallback(async () => {
    try {
      const { searches } = await client.call('scale.list', { project });
      setList(searches);
      if (openRef.current === null && searches.length > 0) setOpenId(searches[0].id);
    } catch (err) {
      reportError(err, 'Cannot list the scaling searches');
    }
  }, [client, project, reportError]);

  const readReport = useCallback(async () => {
    const id = openRef.current;
    if (id === null) return;
    const seq = ++readSeq.current;
    try {
      const next = await client.call('scale.get', { project, searchId: id });
      if (seq === readSeq.current) setReport(next);
    } catch (err) {
      if (seq === readSeq.current) reportError(err, `Cannot read search ${id}`);
    }
  }, [client, project, reportError]);

  useEffect(() => {
    void readList();
  }, [readList]);

  useEffect(() => {
    setReport((current) => (current && current.id === openId ? current : null));
    void readReport();
  }, [openId, readReport]);

  const refetchTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const scheduleRefetch = useCallback(
    (withList: boolean) => {
      if (refetchTimer.current) clearTimeout(refetchTimer.current);
      refetchTimer.current = setTimeout(() => {
        refetchTimer.current = null;
        void readReport();
        if (withList) void readList();
      }, REFETCH_DELAY_MS);
    },
    [readReport, readList],
  );
  useEffect(() => () => void (refetchTimer.current && clearTimeout(refetchTimer.current)), []);

  useEvent('scale.updated', (event) => {
    if (event.searchId !== openRef.current) {
      // another search of this project (a second window, the CLI through this service): the list shows it
      if (list?.every((s) => s.id !== event.searchId) || list?.some((s) => s.id === event.searchId && s.status !== event.status)) scheduleRefetch(true);
      return;
    }
    const statusChanged = reportRef.current?.status !== event.status;
    setReport((current) => {
      if (!current || current.id !== event.searchId || current.project !== event.project) return current;
      return { ...current, status: event.status, candidates: event.candidate ? mergeCandidate(current.candidates, event.candidate) : current.candidates };
    });
    scheduleRefetch(statusChanged || event.candidate === null);
  });

  // a search another process drives: no events reach this window, so read it now and then
  const polled = report !== null && report.status === 'running' && !report.live;
  useEffect(() => {
    if (!polled) return;
    const timer = setInterval(() => void readReport(), POLL_MS);
    return () => clearInterval(timer);
  }, [polled, readReport]);

  const open = useCallback((searchId: number) => setOpenId(searchId), []);
  const adopt = useCallback(
    (next: SearchReport) => {
      readSeq.current++;
      setOpenId(next.id);
      setReport(next);
      void readList();
    },
    [readList],
  );
  const refresh = useCallback(() => {
    void readList();
    void readReport();
  }, [readList, readReport]);

  return { list, openId, report, open, adopt, refresh };
}

/** The candidate replaced in place (or added, a repeat), in training order. */
export function mergeCandidate(candidates: Candidate[], changed: Candidate): Candidate[] {
  const others = candidates.filter((c) => c.id !== changed.id);
  return [...others, changed].sort((a, b) => a.position - b.position || a.id - b.id);
}
