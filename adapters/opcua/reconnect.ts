/**
 * The adapter's reconnection after a lost connection, in place of node-opcua's (which retries a
 * failed handshake with no delay): one attempt per step of the device's reconnect backoff.
 */

/** What one recovery needs from the adapter. */
export interface Recovery {
  /** The device's backoff: the first attempt after `minMs`, then doubling up to `maxMs`. */
  backoff: { readonly minMs: number; readonly maxMs: number };
  /** Aborted by stop(): the wait ends at once and no further attempt is made. */
  signal: AbortSignal;
  /** False once there is nothing to recover (stopped, or the connection came back by itself). */
  wanted(): boolean;
  /** One connection attempt; resolves when connected, rejects with the reason it failed. */
  attempt(): Promise<void>;
  /** A failed attempt's reason (the caller reports it when it changed) and the wait before the next. */
  failed(reason: string, retryInMs: number): void;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}

/** Tries `attempt` once per backoff step until it succeeds or recovery is no longer wanted. */
export async function recoverWithBackoff(r: Recovery): Promise<void> {
  let delay = r.backoff.minMs;
  while (r.wanted()) {
    await pause(delay, r.signal);
    if (r.signal.aborted || !r.wanted()) return;
    try {
      await r.attempt();
      return;
    } catch (err) {
      if (r.signal.aborted || !r.wanted()) return;
      delay = Math.min(delay * 2, r.backoff.maxMs);
      r.failed(err instanceof Error ? err.message : String(err), delay);
    }
  }
}
