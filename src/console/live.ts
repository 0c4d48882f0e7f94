/**
 * One WebSocket to `/api/v1/stream?device=…`: the snapshot of latest values first, then live
 * batches. Reconnects with a growing delay when the connection drops (gateway restart, network),
 * and reports `{"dropped": n}` notices so the user knows the view skipped readings.
 */
import { streamUrl } from "./api.js";
import type { Reading } from "./types.js";

export type LinkState = "connecting" | "live" | "retrying";

export interface LiveHandlers {
  readings(batch: Reading[]): void;
  state(state: LinkState, detail?: string): void;
  dropped(count: number): void;
}

export class LiveStream {
  private socket: WebSocket | undefined;
  private timer: number | undefined;
  private delayMs = 500;
  private closed = false;

  constructor(
    private readonly device: string,
    private readonly on: LiveHandlers,
  ) {
    this.open();
  }

  close(): void {
    this.closed = true;
    window.clearTimeout(this.timer);
    this.socket?.close(1000);
  }

  private open(): void {
    this.on.state("connecting");
    const socket = new WebSocket(streamUrl(this.device));
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.delayMs = 500;
      this.on.state("live");
    });
    socket.addEventListener("message", (event) => {
      const message: unknown = JSON.parse(String(event.data));
      if (Array.isArray(message)) this.on.readings(message as Reading[]);
      else if (typeof (message as { dropped?: unknown }).dropped === "number")
        this.on.dropped((message as { dropped: number }).dropped);
    });
    socket.addEventListener("close", (event) => {
      if (this.closed) return;
      this.on.state("retrying", event.code === 1000 ? undefined : `closed (${event.code})`);
      this.timer = window.setTimeout(() => this.open(), this.delayMs);
      this.delayMs = Math.min(this.delayMs * 2, 10_000);
    });
  }
}
