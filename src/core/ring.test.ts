import { describe, expect, it } from "vitest";
import { Ring } from "./ring.js";

describe("Ring", () => {
  it("keeps FIFO order across wrap-around with push, shift and take", () => {
    const r = new Ring<number>(3);
    const model: number[] = [];
    let next = 0;
    for (let step = 0; step < 200; step++) {
      const op = step % 7;
      if (op < 4) {
        const ok = r.push(next);
        expect(ok).toBe(model.length < 3);
        if (ok) model.push(next);
        next++;
      } else if (op === 4) {
        expect(r.shift()).toBe(model.shift());
      } else {
        const n = step % 3;
        expect(r.take(n)).toEqual(model.splice(0, n));
      }
      expect(r.length).toBe(model.length);
    }
    expect(r.take(10)).toEqual(model);
    expect(r.length).toBe(0);
    expect(r.shift()).toBeUndefined();
  });
});
