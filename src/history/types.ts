/** Shapes the history store reads and returns, and the read interface the HTTP route depends on. */
import type { Quality, ReadingValue } from "../schema/reading.js";

/** A time range query of one point. Times are epoch milliseconds, both ends inclusive. */
export interface HistoryQuery {
  /** Earliest `ts` returned; default: no lower bound. */
  from?: number;
  /** Latest `ts` returned; default: no upper bound. */
  to?: number;
  /** Most samples (or buckets) returned; default 1000. */
  limit?: number;
  /** Downsample into buckets of this many ms, aligned to the Unix epoch; absent: raw samples. */
  bucketMs?: number;
}

/** One stored reading as history returns it. */
export interface HistorySample {
  /** ISO 8601 UTC with milliseconds, the reading's `ts`. */
  ts: string;
  value: ReadingValue;
  quality: Quality;
  status?: string;
}

/** Aggregate of one bucket over the numeric, good-quality values in it. */
export interface HistoryBucket {
  /** ISO start of the bucket; the bucket covers [ts, ts + bucketMs). */
  ts: string;
  min: number;
  max: number;
  avg: number;
  /** Numeric good values aggregated. Buckets without any are omitted. */
  count: number;
}

/** What a query returns: raw samples, or buckets when `bucketMs` was given. */
export type HistoryResult =
  | { kind: "samples"; samples: HistorySample[]; truncated: boolean }
  | { kind: "buckets"; buckets: HistoryBucket[]; truncated: boolean };

/** The read side of the history store, all the HTTP route needs. */
export interface HistoryReader {
  /**
   * Samples or buckets of one point in `ts` order; unknown points have none. Asynchronous: the
   * store answers from its worker thread; rejects with `HistoryUnavailable` while that is down.
   */
  query(device: string, point: string, query: HistoryQuery): Promise<HistoryResult>;
}

/** Counters and size of the store. */
export interface HistoryStats {
  /** Stored readings. */
  rows: number;
  /** Points with a series in the store. */
  series: number;
  /** Bytes in use in the database file (free pages excluded). */
  bytes: number;
  /** Size of the database file on disk, free pages included. */
  fileBytes: number;
  /** ISO `ts` of the oldest stored reading, null when empty. */
  oldest: string | null;
  /** Readings appended since open. */
  appended: number;
  /** Failed appends and sweeps since open (each logged). */
  errors: number;
  /** Readings deleted by age since open. */
  deletedByAge: number;
  /** Readings deleted by the size cap since open. */
  deletedBySize: number;
}
