/**
 * The main thread's end of a worker thread that owns some durable state (a north buffer's file, the
 * history store): requests carry an id and are answered once, in the order the worker handles them.
 * Shared so that every such worker fails the same way: when the thread exits or throws, every
 * unanswered request is rejected, later ones are refused at once, and `onExit` tells the owner,
 * who decides what the user sees (counted errors, a clear API error); the process never crashes.
 *
 * Wire format: a request is `{ ...message, id }`; the worker answers `{ id, value? }` or
 * `{ id, error, name? }` (an error's message and name, since an Error does not cross threads with
 * its class). A message without a numeric `id` is an event (a log line, say), handed to `onEvent`.
 */
import type { TransferListItem, Worker } from "node:worker_threads";

/** Options of {@link WorkerRpc}. */
export interface WorkerRpcOptions {
  /** Names the worker in errors: `<name> worker exited`. */
  name: string;
  /** Messages of the worker that answer no request. */
  onEvent?: (message: unknown) => void;
  /** The worker is gone (exit, uncaught error, or `terminate()`); called once. */
  onExit?: (error: Error) => void;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface Reply {
  id: number;
  value?: unknown;
  error?: string;
  name?: string;
}

const isReply = (m: unknown): m is Reply =>
  typeof m === "object" && m !== null && typeof (m as { id?: unknown }).id === "number";

/** Requests to one worker, each answered once or rejected when the worker is gone. */
export class WorkerRpc<Request extends object> {
  private readonly waiting = new Map<number, Pending>();
  private next = 1;
  private gone: Error | undefined;

  constructor(
    private readonly worker: Worker,
    private readonly options: WorkerRpcOptions,
  ) {
    // A worker whose owner never closed it (a test's simulated kill -9) must not keep the process alive.
    worker.unref();
    worker.on("message", (m: unknown) => {
      if (!isReply(m)) {
        options.onEvent?.(m);
        return;
      }
      const p = this.waiting.get(m.id);
      if (!p) return;
      this.waiting.delete(m.id);
      if (m.error === undefined) p.resolve(m.value);
      else {
        const error = new Error(m.error);
        if (m.name) error.name = m.name;
        p.reject(error);
      }
    });
    worker.on("error", (error) => this.fail(error));
    worker.on("exit", (code) => this.fail(new Error(`${options.name} worker exited (code ${code})`)));
  }

  /** Requests still unanswered. */
  get outstanding(): number {
    return this.waiting.size;
  }

  /** Why the worker is gone; undefined while it runs. */
  get exited(): Error | undefined {
    return this.gone;
  }

  /** Posts `message` with a new id; resolves to the worker's `value`, rejects with its error. */
  request<T>(message: Request, transfer?: readonly TransferListItem[]): Promise<T> {
    if (this.gone) return Promise.reject(this.gone);
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  /** Stops the thread at once; unanswered requests are rejected. */
  async terminate(): Promise<void> {
    await this.worker.terminate();
  }

  private fail(error: Error): void {
    // `error` then `exit` both arrive for a crash: the first one is the cause.
    const first = this.gone === undefined;
    this.gone ??= error;
    for (const p of this.waiting.values()) p.reject(this.gone);
    this.waiting.clear();
    if (first) this.options.onExit?.(this.gone);
  }
}
