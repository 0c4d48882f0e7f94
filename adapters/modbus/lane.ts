/** A concurrency limit for requests on one connection: 1 on a serial line, `maxInFlight` on TCP. */
export class Lane {
  #active = 0;
  readonly #queue: (() => void)[] = [];

  /** `limit` requests run at once; the rest wait in order. */
  constructor(readonly limit: number) {}

  /** Runs `fn` when a slot is free. A finished call hands its slot straight to the next waiter. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#active < this.limit) this.#active++;
    else await new Promise<void>((resolve) => this.#queue.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.#queue.shift();
      if (next) next();
      else this.#active--;
    }
  }
}
