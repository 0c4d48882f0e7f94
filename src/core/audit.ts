/**
 * The append-only audit log of writes: one JSON line per write attempt, accepted or refused, in
 * `<dataDir>/audit.jsonl`. The file is only ever opened for appending; readers get the newest
 * entries first.
 *
 * Bounded: once the file would pass `maxBytes` it is rotated (`audit.jsonl` → `audit.jsonl.1` →
 * … → `audit.jsonl.<keep-1>`, the oldest deleted), so the log holds at most `keep` files of
 * `maxBytes`. Reads go backwards from the end in chunks and stop once `limit` entries (or the
 * start of the asked range) are found: never a whole file for the newest entries.
 *
 * Every file operation is asynchronous (node:fs/promises, run in libuv's thread pool), so a slow
 * disk never stalls the event loop that acquisition owns. Appends and rotations run one at a time,
 * in call order, on one chain; a read opens its files on that chain (a consistent snapshot: no
 * append half-done, no rotation between two files) and reads them after it, through the open
 * handles, while later appends go on.
 */

import type { FileHandle } from "node:fs/promises";
import { appendFile, mkdir, open, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";

/** One audited write. */
export interface AuditEntry {
  /** ISO time the write was decided. */
  at: string;
  /** Name of the API token that asked, or `anonymous`. */
  token: string;
  device: string;
  point: string;
  /** Latest value before the write, if one was known. */
  oldValue?: unknown;
  /** The value as requested. */
  newValue: unknown;
  /** The value written (engineering units), when rounding made it differ from `newValue`. */
  written?: unknown;
  /** `ok`: the device confirmed; `refused`: the gateway said no; `failed`: the device said no. */
  outcome: "ok" | "refused" | "failed";
  /** Error code or protocol status behind the outcome. */
  code?: string;
  message?: string;
}

/** Size bound of the log. */
export interface AuditLogOptions {
  /** Rotate once the current file would pass this; default 10 MiB. */
  maxBytes?: number;
  /** Files kept, the current one included; default 5. */
  keep?: number;
}

/** A time range of `read`, ISO strings compared as entries' `at` (inclusive). */
export interface AuditRange {
  from?: string;
  to?: string;
}

const CHUNK = 64 * 1024;
const NEWLINE = 0x0a;

/** One file of a read's snapshot: its handle and its size when the snapshot was taken. */
interface Snapshot {
  handle: FileHandle;
  size: number;
}

/** Appends and reads audit entries. */
export class AuditLog {
  private readonly maxBytes: number;
  private readonly keep: number;
  private size: number | undefined;
  /** The file work (appends, rotations, read snapshots) in call order; never rejects. */
  private chain: Promise<unknown> = Promise.resolve();
  /** Bytes the last `read` took from disk (for tests and diagnostics). */
  lastReadBytes = 0;

  constructor(
    readonly file: string,
    options: AuditLogOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
    this.keep = Math.max(1, options.keep ?? 5);
  }

  /**
   * Appends one entry; resolves once the line is in the file (handed to the OS, as `write(2)`), so
   * a caller that awaits it never confirms a write before it is on record. Appends land in call
   * order; a failed one rejects its caller only.
   */
  append(entry: AuditEntry): Promise<void> {
    const line = `${JSON.stringify(entry)}\n`;
    return this.serial(() => this.write(line));
  }

  /**
   * Newest entries first, at most `limit`, optionally only those of one device and within a
   * range of `at`. Reads backwards and stops as soon as it has them.
   */
  async read(limit: number, device?: string, range: AuditRange = {}): Promise<AuditEntry[]> {
    const files = await this.serial(() => this.snapshot());
    const out: AuditEntry[] = [];
    this.lastReadBytes = 0;
    try {
      for (const file of files) {
        if (out.length >= limit) break;
        const done = await this.readFile(file, (entry) => {
          if (range.from !== undefined && entry.at < range.from) return true; // older from here on
          if (range.to !== undefined && entry.at > range.to) return false;
          if (device && entry.device !== device) return false;
          out.push(entry);
          return out.length >= limit;
        });
        if (done) break;
      }
    } finally {
      await Promise.all(files.map((f) => f.handle.close().catch(() => undefined)));
    }
    return out;
  }

  /** Runs `work` after everything queued before it; its failure is the caller's, not the chain's. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async write(line: string): Promise<void> {
    const n = Buffer.byteLength(line);
    if (this.size === undefined) {
      await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
      this.size = (await statOrUndefined(this.file))?.size ?? 0;
    }
    if (this.size > 0 && this.size + n > this.maxBytes) await this.rotate();
    await appendFile(this.file, line, { mode: 0o600 });
    this.size += n;
  }

  private async rotate(): Promise<void> {
    await rm(`${this.file}.${this.keep - 1}`, { force: true });
    for (let i = this.keep - 2; i >= 1; i--) {
      if (await statOrUndefined(`${this.file}.${i}`))
        await rename(`${this.file}.${i}`, `${this.file}.${i + 1}`);
    }
    if (this.keep > 1) await rename(this.file, `${this.file}.1`);
    else await rm(this.file, { force: true });
    this.size = 0;
  }

  /** Opens the existing files, newest first, with their sizes now. */
  private async snapshot(): Promise<Snapshot[]> {
    const files: Snapshot[] = [];
    try {
      for (let i = 0; i < this.keep; i++) {
        let handle: FileHandle;
        try {
          handle = await open(i === 0 ? this.file : `${this.file}.${i}`, "r");
        } catch {
          continue; // not there (yet, or any more)
        }
        const file = { handle, size: 0 };
        files.push(file); // closed below if what follows fails
        file.size = (await handle.stat()).size;
      }
    } catch (error) {
      await Promise.all(files.map((f) => f.handle.close().catch(() => undefined)));
      throw error;
    }
    return files;
  }

  /** Calls `visit` on each entry of one file, newest first, until it returns true (then true). */
  private async readFile(file: Snapshot, visit: (entry: AuditEntry) => boolean): Promise<boolean> {
    let pos = file.size;
    let tail: Buffer = Buffer.alloc(0); // the start of a line whose beginning is further back
    while (pos > 0) {
      const len = Math.min(CHUNK, pos);
      pos -= len;
      const chunk = Buffer.alloc(len);
      await file.handle.read(chunk, 0, len, pos);
      this.lastReadBytes += len;
      let buf = tail.length > 0 ? Buffer.concat([chunk, tail]) : chunk;
      let end = buf.length;
      for (let i = buf.length - 1; i >= 0; i--) {
        if (buf[i] !== NEWLINE) continue;
        if (this.visitLine(buf.subarray(i + 1, end), visit)) return true;
        end = i;
      }
      buf = buf.subarray(0, end);
      tail = Buffer.from(buf);
    }
    return this.visitLine(tail, visit);
  }

  private visitLine(line: Buffer, visit: (entry: AuditEntry) => boolean): boolean {
    if (line.length === 0) return false;
    let entry: AuditEntry;
    try {
      entry = JSON.parse(line.toString("utf8")) as AuditEntry;
    } catch {
      return false; // a torn last line after a crash: skip it, keep the rest
    }
    return visit(entry);
  }
}

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
