/** The main thread's index of a north buffer's rows (buffer.ts): decided at once, no query to the file. */

/** Ids, buffering times and sizes of the buffered rows, oldest first (a deque over arrays). */
export class Rows {
  private ids: number[] = [];
  private ats: number[] = [];
  private ns: number[] = [];
  private seqs: number[] = [];
  /** Device ids, shared strings (the Readings' own), for per-device drop counts. */
  private devices: string[] = [];
  private head = 0;
  bytes = 0;

  get length(): number {
    return this.ids.length - this.head;
  }
  push(id: number, at: number, n: number, seq = Number.NaN, device = ""): void {
    this.seqs.push(seq);
    this.devices.push(device);
    this.ids.push(id);
    this.ats.push(at);
    this.ns.push(n);
    this.bytes += n;
  }
  firstId(): number | undefined {
    return this.ids[this.head];
  }
  firstAt(): number | undefined {
    return this.ats[this.head];
  }
  firstSeq(): number {
    return this.seqs[this.head] ?? Number.NaN;
  }
  firstDevice(): string {
    return this.devices[this.head] ?? "";
  }
  firstN(): number {
    return this.ns[this.head] ?? 0;
  }
  /** Rows with an id above `id` (ids increase from head to tail). */
  countAfter(id: number): number {
    let lo = this.head;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ids[mid]! <= id) lo = mid + 1;
      else hi = mid;
    }
    return this.ids.length - lo;
  }
  shift(): void {
    this.bytes -= this.ns[this.head] ?? 0;
    this.head++;
    if (this.head > 4096 && this.head * 2 > this.ids.length) {
      this.ids = this.ids.slice(this.head);
      this.ats = this.ats.slice(this.head);
      this.ns = this.ns.slice(this.head);
      this.seqs = this.seqs.slice(this.head);
      this.devices = this.devices.slice(this.head);
      this.head = 0;
    }
  }
}
