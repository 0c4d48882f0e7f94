/**
 * The replay of a sink's store-and-forward buffer, oldest first, for {@link SinkRunner}.
 *
 * Up to {@link REPLAY_WINDOW} pages are out at once: the next page is read while the one before
 * it is published, and on a `pipelined` sink sent too, so the connection never waits for a
 * page read, nor for the last acks of a page with nothing behind them. (Mosquitto keeps Nagle on
 * by default: its last PUBACKs then wait for our TCP ACK, which Linux delays up to 40 ms while we
 * send nothing; once per page, or per slice, that held a QoS 1 replay near 5,000 readings/s with
 * the process mostly idle.) Bounded: two pages, never a burst of the whole backlog.
 *
 * Pages are acked in order, each only after it was acknowledged: at-least-once. When one fails,
 * the ones sent after it are sent again after it, from a fresh read (what of them arrived counts
 * as delivered, `deliveredOutOfTurn`, for the drop counters). The replay yields to timers and I/O
 * (polls, the API) after every page, and pauses there while the event loop is loaded
 * (replay-pace.ts): a backlog drains with what acquisition leaves over.
 */
import { type LoopLoad, mainLoopLoad } from "../core/loop-load.js";
import type { BufferRead, SinkBuffer } from "./buffer.js";
import { DrainFloor, ReplayPacer } from "./replay-pace.js";

/** Pages of a replay out at once (read, or sent on a pipelined sink). */
export const REPLAY_WINDOW = 2;
const RETRY_MS = 500;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** What a replay needs of its runner. */
export interface ReplayDeps {
  buffer: SinkBuffer;
  /** The sink is `pipelined`: pages may be sent while the one before is unacknowledged. */
  pipelined: boolean;
  /** Readings per page. */
  pageSize: number;
  /** False once the runner closes or the sink goes down: nothing new is sent. */
  replaying(): boolean;
  /** Publishes a page (historical) with the runner's timeout and accounting. */
  send(read: BufferRead): Promise<void>;
  /** A page was acknowledged and acked in the buffer. */
  acked(read: BufferRead): void;
  failed(error: unknown): void;
  /** The event loop's load, which paces the replay; the process's main loop by default. */
  load?: LoopLoad;
}

/** Replays until the buffer is empty, the sink goes down or the runner closes. */
export async function replay(d: ReplayDeps): Promise<void> {
  const load = d.load ?? mainLoopLoad;
  const release = load.acquire();
  try {
    await replayPages(d, load, new ReplayPacer(), new DrainFloor(() => d.buffer.stats().appended));
  } finally {
    release();
  }
}

async function replayPages(
  d: ReplayDeps,
  load: LoopLoad,
  pacer: ReplayPacer,
  floor: DrainFloor,
): Promise<void> {
  const { buffer } = d;
  const { pipelined } = d;
  const send = (read: BufferRead) => {
    const sent = d.send(read);
    sent.catch(() => undefined); // awaited in order below
    return sent;
  };
  const out: { read: BufferRead; sent: Promise<void> | undefined }[] = [];
  let after: number | undefined;
  for (;;) {
    while (out.length < REPLAY_WINDOW && d.replaying() && buffer.sizeAfter(after) > 0) {
      const read = await buffer.read(d.pageSize, after);
      if (read.readings.length === 0) break;
      after = read.through;
      out.push({ read, sent: out.length === 0 || pipelined ? send(read) : undefined });
    }
    const head = out.shift();
    if (!head) return;
    if (!head.sent) {
      if (!d.replaying()) return;
      head.sent = send(head.read);
    }
    try {
      await head.sent;
      buffer.ack(head.read);
      d.acked(head.read);
      const next = out[0];
      if (next && !next.sent && d.replaying()) next.sent = send(next.read);
    } catch (error) {
      d.failed(error);
      for (const rest of out.splice(0))
        await rest.sent?.then(
          () => buffer.deliveredOutOfTurn(rest.read),
          () => undefined,
        );
      after = undefined;
      await sleep(RETRY_MS);
    }
    const pause = pacer.next(load.current(), floor.maxPause(head.read.readings.length));
    if (pause > 0) await sleep(pause);
    else await new Promise<void>((r) => setImmediate(r));
    floor.resumed();
  }
}
