/**
 * JetStream publishes of the NATS sink, one message per Reading, with their acknowledgements
 * matched on one reply subscription per connection (`<inbox>.<n>`), as the JetStream protocol
 * has them (a publish with a reply subject is answered with a PubAck or an error there).
 *
 * Why not `js.publish()` per message: each is a full request in the client (a request object,
 * a timer, a mux entry, a promise) and nats.js 3.4 builds an `Error`, with its stack, for every
 * request it completes (`RequestOne.cancel` rejects its settled promise with a new RequestError),
 * whatever `noAsyncTraces` says: 20 % of a replay's CPU in a profile, 40 % with the rest of the
 * request machinery. Here a message costs one `nc.publish` and a map entry.
 *
 * Order: calls go out in call order, one FIFO, over one connection, so a call made while earlier
 * ones are unacknowledged still follows them (the sink runner then keeps two replay pages out). A
 * window bounds the messages awaiting their ack over all calls; each ack lets the next one out.
 * A call fails at its first negative ack, when the connection drops, or when it is not acknowledged
 * within the publish timeout; its unsent messages are then not sent.
 */
import { createInbox, headers, type Msg, type NatsConnection } from "@nats-io/transport-node";
import type { Reading } from "../schema/reading.js";

/** How the sink names and writes each Reading's message. */
export interface JetStreamMessages {
  subject(r: Reading): string;
  msgId(r: Reading): string;
  payload(r: Reading): Uint8Array;
}

interface Call {
  readings: readonly Reading[];
  next: number;
  left: number;
  /** Tokens of its messages handed to the connection: [first, last]. */
  first: number;
  last: number;
  done: boolean;
  timer: NodeJS.Timeout | undefined;
  resolve(): void;
  reject(error: Error): void;
}

/**
 * Most messages awaiting their ack at once. The acks of a socket read let their successors out in
 * one synchronous burst: 128 drained about as fast as 256 or 512 with half the loop lag.
 */
export const JETSTREAM_WINDOW = 128;

/** JetStream publishing over one connection; `close()` when the connection goes. */
export class JetStreamPublisher {
  private readonly inbox = createInbox();
  private readonly prefix = this.inbox.length + 1;
  private readonly waiting = new Map<number, Call>();
  private readonly queue: Call[] = [];
  private token = 0;
  private inFlight = 0;
  private pumping = false;
  /** One header set, rewritten per message: `nc.publish` encodes it before it returns. */
  private readonly hdrs = headers();
  private readonly sub;

  constructor(
    private readonly nc: NatsConnection,
    private readonly messages: JetStreamMessages,
    private readonly timeoutMs: number,
    private readonly window = JETSTREAM_WINDOW,
  ) {
    // The client resubscribes it after a reconnect.
    this.sub = nc.subscribe(`${this.inbox}.*`, {
      callback: (error, msg) => (error ? this.failAll(error.message) : this.onAck(msg)),
    });
  }

  /** Publishes and resolves once the stream acknowledged every message. */
  publish(readings: readonly Reading[]): Promise<void> {
    if (readings.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const call: Call = {
        readings,
        next: 0,
        left: readings.length,
        first: 0,
        last: -1,
        done: false,
        timer: undefined,
        resolve,
        reject,
      };
      call.timer = setTimeout(
        () => this.fail(call, new Error(`JetStream publish not acknowledged within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      call.timer.unref();
      this.queue.push(call);
      this.pump();
    });
  }

  /** Fails every call (the connection dropped: acks of what was sent may never come). */
  failAll(reason: string): void {
    const error = new Error(reason);
    for (const call of [...this.queue, ...this.waiting.values()]) this.fail(call, error);
  }

  /** Fails every call and ends the reply subscription. */
  close(): void {
    this.failAll("NATS sink closed");
    this.sub.unsubscribe();
  }

  private pump(): void {
    this.pumping = false;
    const { nc, messages, hdrs } = this;
    while (this.inFlight < this.window && this.queue.length > 0) {
      const call = this.queue[0]!;
      if (call.done) {
        this.queue.shift();
        continue;
      }
      const r = call.readings[call.next++]!;
      if (call.next === call.readings.length) this.queue.shift();
      const token = ++this.token;
      if (call.last < call.first) call.first = token;
      call.last = token;
      this.waiting.set(token, call);
      this.inFlight++;
      try {
        hdrs.set("Nats-Msg-Id", messages.msgId(r));
        nc.publish(messages.subject(r), messages.payload(r), {
          reply: `${this.inbox}.${token}`,
          headers: hdrs,
        });
      } catch (error) {
        this.fail(call, error instanceof Error ? error : new Error(String(error)));
      }
    }
  }

  private onAck(msg: Msg): void {
    const token = Number(msg.subject.slice(this.prefix));
    const call = this.waiting.get(token);
    if (!call) return; // its call failed already
    this.waiting.delete(token);
    this.inFlight--;
    const error = ackError(msg);
    if (error) this.fail(call, new Error(error));
    else if (--call.left === 0) {
      call.done = true;
      clearTimeout(call.timer);
      call.resolve();
    }
    if (!this.pumping && this.queue.length > 0) {
      this.pumping = true;
      queueMicrotask(() => this.pump());
    }
  }

  private fail(call: Call, error: Error): void {
    if (call.done) return;
    call.done = true;
    clearTimeout(call.timer);
    for (let t = call.first; t <= call.last; t++)
      if (this.waiting.get(t) === call) {
        this.waiting.delete(t);
        this.inFlight--;
      }
    const i = this.queue.indexOf(call);
    if (i >= 0) this.queue.splice(i, 1);
    call.reject(error);
  }
}

/** The error a JetStream reply carries, if any (no stream for the subject, a stream error). */
function ackError(msg: Msg): string | undefined {
  if (msg.data.length === 0) {
    const code = msg.headers?.code ?? 0;
    return code === 503 ? "no JetStream stream for this subject (no responders)" : `JetStream status ${code}`;
  }
  try {
    const a = msg.json<{ error?: { description?: string; code?: number }; stream?: string }>();
    if (a.error) return `JetStream: ${a.error.description ?? `error ${a.error.code}`}`;
    return a.stream ? undefined : "invalid JetStream ack";
  } catch {
    return "invalid JetStream ack";
  }
}
