/**
 * The thread that owns a north buffer's SQLite file, so that its commits (fsynced), page reads
 * and deletes never run on the main event loop. It answers one message at a time, in order, so a
 * page read posted after a commit sees that commit.
 *
 * The code is a string run with `new Worker(code, { eval: true })`: a worker started from a `.ts`
 * file would need a loader under tsx and vitest, and the build emits no `.cjs` assets. It is plain
 * CommonJS and gets better-sqlite3's resolved path in `workerData`.
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { WorkerRpc } from "../core/worker-rpc.js";

/** Requests the main thread posts (one `id` each, answered once). */
export type WorkerRequest =
  | { op: "open"; id: number }
  | {
      op: "commit";
      id: number;
      ids: number[];
      ats: number[];
      bodies: string[];
      /** Deletes rows with ids ≤ this (0: nothing). */
      deleteThrough: number;
      vacuum: boolean;
    }
  | { op: "page"; id: number; after: number; limit: number }
  | { op: "setMeta"; id: number; key: string; value: string }
  | { op: "close"; id: number };

/** What `open` answers: every row's id, buffering time and JSON length, and the meta table. */
export interface OpenReply {
  ids: Float64Array;
  ats: Float64Array;
  lengths: Uint32Array;
  meta: Record<string, string>;
}

/** What `page` answers. */
export interface PageReply {
  ids: number[];
  bodies: string[];
}

const CODE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
let db;
let st;
function open() {
  db = new Database(workerData.file);
  // Buffered readings are the plant's data: the owner only (SQLite gives -wal/-shm the same mode).
  if (workerData.file !== ":memory:") require("node:fs").chmodSync(workerData.file, 0o600);
  db.pragma("auto_vacuum = INCREMENTAL");
  db.pragma("journal_mode = WAL");
  // FULL in WAL mode: each commit fsyncs the WAL.
  db.pragma("synchronous = FULL");
  db.pragma("journal_size_limit = 16777216");
  db.exec("CREATE TABLE IF NOT EXISTS readings (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, body TEXT NOT NULL);" +
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);");
  st = {
    insert: db.prepare("INSERT INTO readings (id, at, body) VALUES (?, ?, ?)"),
    remove: db.prepare("DELETE FROM readings WHERE id <= ?"),
    page: db.prepare("SELECT id, body FROM readings WHERE id > ? ORDER BY id LIMIT ?").raw(),
    setMeta: db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
  };
  st.commit = db.transaction((m) => {
    for (let i = 0; i < m.ids.length; i++) st.insert.run(m.ids[i], m.ats[i], m.bodies[i]);
    if (m.deleteThrough > 0) st.remove.run(m.deleteThrough);
  });
  const rows = db.prepare("SELECT id, at, length(body) FROM readings ORDER BY id").raw().all();
  const ids = new Float64Array(rows.length), ats = new Float64Array(rows.length), lengths = new Uint32Array(rows.length);
  for (let i = 0; i < rows.length; i++) { ids[i] = rows[i][0]; ats[i] = rows[i][1]; lengths[i] = rows[i][2]; }
  const meta = {};
  for (const [k, v] of db.prepare("SELECT key, value FROM meta").raw().all()) meta[k] = v;
  return { ids, ats, lengths, meta };
}
parentPort.on("message", (m) => {
  try {
    switch (m.op) {
      case "open": {
        const r = open();
        parentPort.postMessage({ id: m.id, value: r }, [r.ids.buffer, r.ats.buffer, r.lengths.buffer]);
        return;
      }
      case "commit":
        st.commit(m);
        if (m.vacuum) db.pragma("incremental_vacuum");
        parentPort.postMessage({ id: m.id });
        return;
      case "page": {
        const rows = st.page.all(m.after, m.limit);
        parentPort.postMessage({ id: m.id, value: { ids: rows.map((r) => r[0]), bodies: rows.map((r) => r[1]) } });
        return;
      }
      case "setMeta":
        st.setMeta.run(m.key, m.value);
        parentPort.postMessage({ id: m.id });
        return;
      case "close":
        if (db) db.close();
        db = undefined;
        parentPort.postMessage({ id: m.id });
        parentPort.close();
        return;
    }
  } catch (error) {
    parentPort.postMessage({ id: m.id, error: String((error && error.message) || error) });
  }
});
`;

type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

/** The main thread's end of one buffer worker: requests answered in the order posted. */
export class BufferWorker extends WorkerRpc<WithoutId<WorkerRequest>> {
  constructor(file: string) {
    const driver = createRequire(import.meta.url).resolve("better-sqlite3");
    super(new Worker(CODE, { eval: true, workerData: { file, driver } }), { name: "north buffer" });
  }
}
