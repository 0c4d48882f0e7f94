/**
 * Retention: deletes readings past their age (the point's own retention, else the global one) and,
 * when the file holds more than the size cap, the oldest readings of any point. Deletes run in
 * chunks with a yield to the event loop between them, so a large sweep never stalls the gateway.
 */
import type { Database } from "better-sqlite3";
import { databaseBytes, type Statements } from "./sql.js";

/** Rows deleted per statement; about 10 ms of work. */
const CHUNK = 5_000;
/** Once above the cap, delete down to this share of it, so the next writes do not trip it again. */
const SIZE_TARGET = 0.9;
/** Give free pages back to the disk when they exceed this share of the file. */
const VACUUM_SHARE = 0.25;

/** Retention of one point in ms, `undefined` for the global one; 0 keeps nothing. */
export type PointRetention = (device: string, point: string) => number | undefined;

/** What a sweep needs from the store. */
export interface SweepContext {
  db: Database;
  statements: Statements;
  series: Iterable<{ id: number; device: string; point: string }>;
  now: number;
  retentionMs: number;
  pointRetention: PointRetention | undefined;
  maxBytes: number;
  /** Rows currently stored, as the store counts them. */
  rows(): number;
  /** True once the store closed: the sweep stops at the next chunk. */
  closed(): boolean;
}

/** Rows a sweep deleted. */
export interface SweepResult {
  byAge: number;
  bySize: number;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

async function deleteInChunks(ctx: SweepContext, run: () => number): Promise<number> {
  let total = 0;
  while (!ctx.closed()) {
    const n = run();
    total += n;
    if (n < CHUNK) break;
    await tick();
  }
  return total;
}

/** Deletes, per series, the rows older than its retention. */
export async function sweepByAge(ctx: SweepContext): Promise<number> {
  let total = 0;
  for (const s of [...ctx.series]) {
    if (ctx.closed()) break;
    const retention = ctx.pointRetention?.(s.device, s.point) ?? ctx.retentionMs;
    const { deleteOlder, deleteSeries } = ctx.statements;
    total +=
      retention <= 0
        ? await deleteInChunks(ctx, () => deleteSeries.run(s.id, CHUNK).changes)
        : await deleteInChunks(ctx, () => deleteOlder.run(s.id, ctx.now - retention, CHUNK).changes);
  }
  return total;
}

/**
 * Deletes the oldest rows (insertion order) while the pages in use exceed the cap. The rows to
 * delete are estimated from the average row size and re-measured after each chunk, since SQLite
 * frees a page only once it is empty.
 */
export async function sweepBySize(ctx: SweepContext): Promise<number> {
  if (databaseBytes(ctx.db).used <= ctx.maxBytes) return 0;
  const target = ctx.maxBytes * SIZE_TARGET;
  let total = 0;
  for (let round = 0; round < 10_000 && !ctx.closed(); round++) {
    const used = databaseBytes(ctx.db).used;
    const rows = ctx.rows() - total;
    if (used <= target || rows <= 0) break;
    const estimate = Math.ceil((used - target) / (used / rows));
    const n = ctx.statements.deleteOldest.run(Math.max(1, Math.min(CHUNK, estimate))).changes;
    if (n === 0) break;
    total += n;
    await tick();
  }
  return total;
}

/**
 * After deletes: hands free pages back to the file system when they are a large share of the file,
 * and checkpoints the WAL (which just logged every delete) back to an empty file.
 */
export function releaseFreePages(db: Database): void {
  const { used, file } = databaseBytes(db);
  if (file > 0 && (file - used) / file > VACUUM_SHARE) db.exec("PRAGMA incremental_vacuum");
  db.pragma("wal_checkpoint(TRUNCATE)");
}
