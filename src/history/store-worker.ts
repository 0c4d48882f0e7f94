/**
 * The thread that owns the history file: a {@link HistoryStore} (synchronous better-sqlite3) run
 * off the main event loop, so that appends, queries and retention sweeps of millions of rows never
 * stall polls or the API. Started by {@link HistoryClient}; answers the requests of
 * {@link StoreRequest} one at a time, in order (a sweep yields between its chunks, so appends and
 * queries posted meanwhile are answered before it ends). The store's own timer runs the periodic
 * sweep here. Log lines go to the main thread's logger as events.
 */
import { setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import pino from "pino";
import type { Reading } from "../schema/reading.js";
import { HistoryStore, type HistoryStoreOptions } from "./store.js";
import type { HistoryQuery } from "./types.js";

/** What the worker is started with. */
export interface StoreWorkerData {
  file: string;
  /** The store options without functions (they do not cross threads). */
  options: Pick<HistoryStoreOptions, "retentionMs" | "maxSizeMb" | "sweepIntervalMs">;
  /** Per-point retention in ms, keyed `device\0point`. */
  retention: Map<string, number>;
  /** Level of the main thread's logger: lines below it are not even posted. */
  level: string;
  /** Nice value of this thread (Linux only, see below); absent: unchanged. */
  nice?: number;
}

/** Requests of the main thread (each with an `id` added by the RPC client). */
export type StoreRequest =
  | { op: "open" }
  | { op: "append"; readings: Reading[] }
  | { op: "query"; device: string; point: string; query: HistoryQuery }
  | { op: "stats" }
  | { op: "sweep" }
  | { op: "setRetention"; retention: Map<string, number> }
  | { op: "close" };

/** The event carrying one log line of the worker (pino JSON). */
export interface LogEvent {
  log: string;
}

const port = parentPort;
if (!port) throw new Error("store-worker.ts runs as a worker thread only");
const data = workerData as StoreWorkerData;
// Acquisition owns the CPU too: on a loaded machine this thread yields it to the main thread.
// On Linux a nice value belongs to one thread (setpriority(2), BUGS), so this renices this thread
// only; elsewhere it would renice the whole process, acquisition included, so it is not done.
if (data.nice !== undefined && process.platform === "linux") {
  try {
    setPriority(data.nice);
  } catch {
    // Not permitted here (a seccomp profile, say): the thread runs at the process's priority.
  }
}
let retention = data.retention;
const log = pino(
  { level: data.level, base: undefined, timestamp: false },
  { write: (line: string) => port.postMessage({ log: line } satisfies LogEvent) },
);
let store: HistoryStore | undefined;

function opened(): HistoryStore {
  if (!store) throw new Error("history store not open");
  return store;
}

async function run(m: StoreRequest): Promise<unknown> {
  switch (m.op) {
    case "open":
      store ??= HistoryStore.open(
        data.file,
        { ...data.options, pointRetention: (d, p) => retention.get(`${d}\u0000${p}`) },
        log,
      );
      return store.stats().rows;
    case "append":
      return opened().append(m.readings);
    case "query":
      return opened().query(m.device, m.point, m.query);
    case "stats":
      return opened().stats();
    case "sweep":
      return opened().sweep();
    case "setRetention":
      retention = m.retention;
      return undefined;
    case "close":
      store?.close();
      return undefined;
  }
}

port.on("message", (m: StoreRequest & { id: number }) => {
  void run(m).then(
    (value) => {
      port.postMessage({ id: m.id, value });
      if (m.op === "close") port.close();
    },
    (error: unknown) => {
      const e = error instanceof Error ? error : new Error(String(error));
      port.postMessage({ id: m.id, error: e.message, name: e.name });
    },
  );
});
