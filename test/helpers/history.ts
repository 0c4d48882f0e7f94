/** Readings and temporary history stores for the history tests. Test support only. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino, { type Logger } from "pino";
import { HistoryClient, type HistoryClientOptions } from "../../src/history/client.js";
import { HistoryStore, type HistoryStoreOptions } from "../../src/history/store.js";
import type { Reading } from "../../src/schema/reading.js";

let seq = 0;

/** A Reading of `device`/`point` at epoch ms `ts`. */
export function historyReading(
  device: string,
  point: string,
  ts: number,
  value: Reading["value"],
  extra: Partial<Reading> = {},
): Reading {
  const iso = new Date(ts).toISOString();
  return {
    gateway: "gw-test",
    device,
    point,
    value,
    type: "float64",
    quality: "good",
    ts: iso,
    receivedAt: iso,
    protocol: "simulator",
    seq: ++seq,
    ...extra,
  };
}

/** A log that keeps its lines, to check what was logged. */
export function captureLog(): { log: Logger; lines: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const log = pino({ level: "debug" }, { write: (line: string) => void lines.push(line) });
  return { log, lines: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** A temporary directory holding history files, removed by `cleanup()`. */
export function historyDir(): { file: (name?: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "tagbridge-history-"));
  return {
    file: (name = "history.sqlite") => join(dir, name),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Store options for tests: 7 days, 512 MiB, no timer. */
export function testStoreOptions(overrides: Partial<HistoryStoreOptions> = {}): HistoryStoreOptions {
  return { retentionMs: 7 * 86_400_000, maxSizeMb: 512, sweepIntervalMs: 0, ...overrides };
}

/** Opens a store with a silent log. */
export function openStore(file: string, overrides: Partial<HistoryStoreOptions> = {}, log?: Logger) {
  return HistoryStore.open(file, testStoreOptions(overrides), log ?? pino({ level: "silent" }));
}

/** Opens a store in its worker thread (as the service runs it) with a silent log and no timer. */
export function openHistoryClient(
  file: string,
  options: Partial<HistoryClientOptions> = {},
  log?: Logger,
): Promise<HistoryClient> {
  const { retentionMs, maxSizeMb, sweepIntervalMs } = testStoreOptions();
  return HistoryClient.open(
    file,
    { store: { retentionMs, maxSizeMb, sweepIntervalMs }, restartMs: 50, ...options },
    log ?? pino({ level: "silent" }),
  );
}
