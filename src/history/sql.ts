/**
 * The SQLite layout of the history store and its prepared statements.
 *
 * Readings of one point form a `series` (an integer id), so a sample row is a few small integers and
 * a REAL: about 50 bytes with its index entry. Numbers go to `num` (REAL, what buckets aggregate);
 * every other value is JSON text in `json`; both NULL is a null value. Quality is 0/1/2 in
 * QUALITIES order. `ts` is epoch ms. The index covers quality and num, so a downsampling query
 * reads the index alone, in order; raw queries come out in `ts` order (ties unspecified). The rowid follows insertion order, which the size cap uses to
 * find the oldest rows without a second index.
 */
import type { Database, Statement } from "better-sqlite3";

const SCHEMA_VERSION = 1;

const DDL = `
CREATE TABLE IF NOT EXISTS series (
  id INTEGER PRIMARY KEY,
  device TEXT NOT NULL,
  point TEXT NOT NULL,
  UNIQUE (device, point)
);
CREATE TABLE IF NOT EXISTS samples (
  series INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  num REAL,
  json TEXT,
  quality INTEGER NOT NULL,
  status TEXT
);
CREATE INDEX IF NOT EXISTS samples_series_ts ON samples (series, ts, quality, num);
`;

/** Sets the pragmas and creates the tables of a new file; refuses a file of a newer layout. */
export function prepareDatabase(db: Database): void {
  // Only effective before the first table exists: lets a sweep give freed pages back to the disk.
  db.pragma("auto_vacuum = INCREMENTAL");
  db.pragma("journal_mode = WAL");
  // WAL + NORMAL: a power cut may lose the last transactions, never corrupts the file.
  db.pragma("synchronous = NORMAL");
  db.pragma("journal_size_limit = 16777216");
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version > SCHEMA_VERSION)
    throw new Error(`history file has layout version ${version}; this build reads up to ${SCHEMA_VERSION}`);
  db.exec(DDL);
  if (version < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
}

/** Row of a raw sample query. */
export interface SampleRow {
  ts: number;
  num: number | null;
  json: string | null;
  quality: number;
  status: string | null;
}

/** Row of a bucket query. */
export interface BucketRow {
  bucket: number;
  min: number;
  max: number;
  avg: number;
  count: number;
}

/** Every statement the store runs, prepared once. */
export interface Statements {
  allSeries: Statement<[], { id: number; device: string; point: string }>;
  insertSeries: Statement<[string, string]>;
  seriesId: Statement<[string, string], { id: number }>;
  insertSample: Statement<[number, number, number | null, string | null, number, string | null]>;
  samples: Statement<[number, number, number, number], SampleRow>;
  buckets: Statement<{ b: number; series: number; from: number; to: number; limit: number }, BucketRow>;
  count: Statement<[], { n: number }>;
  oldest: Statement<[], { ts: number | null }>;
  deleteOlder: Statement<[number, number, number]>;
  deleteSeries: Statement<[number, number]>;
  deleteOldest: Statement<[number]>;
}

/** The read queries, exported so a test can check their query plans. */
export const QUERIES = {
  samples:
    "SELECT ts, num, json, quality, status FROM samples WHERE series = ? AND ts >= ? AND ts <= ? ORDER BY ts LIMIT ?",
  // Epoch-aligned buckets (stable while a chart pans); the double modulo keeps pre-1970 ts right.
  buckets: `SELECT ts - (((ts % :b) + :b) % :b) AS bucket, min(num) AS min, max(num) AS max, avg(num) AS avg, count(*) AS count
       FROM samples WHERE series = :series AND ts >= :from AND ts <= :to AND quality = 0 AND num IS NOT NULL
       GROUP BY bucket ORDER BY bucket LIMIT :limit`,
} as const;

/** Prepares the statements of {@link Statements}. */
export function prepareStatements(db: Database): Statements {
  return {
    allSeries: db.prepare("SELECT id, device, point FROM series"),
    insertSeries: db.prepare("INSERT OR IGNORE INTO series (device, point) VALUES (?, ?)"),
    seriesId: db.prepare("SELECT id FROM series WHERE device = ? AND point = ?"),
    insertSample: db.prepare(
      "INSERT INTO samples (series, ts, num, json, quality, status) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    samples: db.prepare(QUERIES.samples),
    buckets: db.prepare(QUERIES.buckets),
    count: db.prepare("SELECT count(*) AS n FROM samples"),
    // One index seek per series instead of a scan of the table.
    oldest: db.prepare("SELECT min((SELECT min(ts) FROM samples WHERE series = s.id)) AS ts FROM series s"),
    deleteOlder: db.prepare(
      "DELETE FROM samples WHERE rowid IN (SELECT rowid FROM samples WHERE series = ? AND ts < ? LIMIT ?)",
    ),
    deleteSeries: db.prepare(
      "DELETE FROM samples WHERE rowid IN (SELECT rowid FROM samples WHERE series = ? LIMIT ?)",
    ),
    deleteOldest: db.prepare(
      "DELETE FROM samples WHERE rowid IN (SELECT rowid FROM samples ORDER BY rowid LIMIT ?)",
    ),
  };
}

/** Bytes in use (file pages minus free pages) and the file size, from the page counters. */
export function databaseBytes(db: Database): { used: number; file: number } {
  const pageSize = db.pragma("page_size", { simple: true }) as number;
  const pages = db.pragma("page_count", { simple: true }) as number;
  const free = db.pragma("freelist_count", { simple: true }) as number;
  return { used: (pages - free) * pageSize, file: pages * pageSize };
}
