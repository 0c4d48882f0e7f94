/** A fixed-capacity FIFO over a circular array: O(1) push and shift, no reallocation on the hot path. */
export class Ring<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
    this.items = new Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  /** Appends; returns false (and stores nothing) when full. */
  push(item: T): boolean {
    if (this.count === this.capacity) return false;
    const at = this.head + this.count;
    this.items[at < this.capacity ? at : at - this.capacity] = item;
    this.count++;
    return true;
  }

  /** Removes and returns the oldest item. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
    this.count--;
    return item;
  }

  /** Removes up to `max` oldest items into a new array. */
  take(max: number): T[] {
    const n = Math.min(max, this.count);
    const out: T[] = new Array(n);
    const items = this.items;
    let head = this.head;
    for (let i = 0; i < n; i++) {
      out[i] = items[head] as T;
      items[head] = undefined;
      if (++head === this.capacity) head = 0;
    }
    this.head = head;
    this.count -= n;
    return out;
  }

  clear(): void {
    this.items.fill(undefined);
    this.head = 0;
    this.count = 0;
  }
}
