import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CodecSpec,
  decodeWords,
  EncodeError,
  encodeBitMask,
  encodeBits,
  encodeRegisters,
  permutation,
} from "./codec.js";
import { BYTE_ORDERS, type ByteOrder, type DataType } from "./types.js";

const spec = (type: DataType, byteOrder: ByteOrder = "ABCD", extra: Partial<CodecSpec> = {}): CodecSpec => ({
  type,
  byteOrder,
  ...extra,
});

// float32 123.456 is 0x42F6E979; int64 0x0102030405060708.
const cases: [DataType, ByteOrder, number[], unknown][] = [
  ["float32", "ABCD", [0x42f6, 0xe979], Math.fround(123.456)],
  ["float32", "CDAB", [0xe979, 0x42f6], Math.fround(123.456)],
  ["float32", "BADC", [0xf642, 0x79e9], Math.fround(123.456)],
  ["float32", "DCBA", [0x79e9, 0xf642], Math.fround(123.456)],
  ["int16", "ABCD", [0xfffe], -2],
  ["int16", "BADC", [0xfeff], -2],
  ["int16", "CDAB", [0xfffe], -2],
  ["uint16", "DCBA", [0x3412], 0x1234],
  ["int32", "ABCD", [0xffff, 0xfffd], -3],
  ["int32", "CDAB", [0xfffd, 0xffff], -3],
  ["uint32", "ABCD", [0x1234, 0x5678], 0x12345678],
  ["uint32", "BADC", [0x3412, 0x7856], 0x12345678],
  ["uint32", "DCBA", [0x7856, 0x3412], 0x12345678],
  ["uint32", "CDAB", [0x5678, 0x1234], 0x12345678],
  ["int64", "ABCD", [0x0102, 0x0304, 0x0506, 0x0708], 0x0102030405060708n],
  ["int64", "ABCDEFGH", [0x0102, 0x0304, 0x0506, 0x0708], 0x0102030405060708n],
  ["int64", "CDAB", [0x0708, 0x0506, 0x0304, 0x0102], 0x0102030405060708n],
  ["int64", "GHEFCDAB", [0x0708, 0x0506, 0x0304, 0x0102], 0x0102030405060708n],
  ["int64", "BADCFEHG", [0x0201, 0x0403, 0x0605, 0x0807], 0x0102030405060708n],
  ["int64", "HGFEDCBA", [0x0807, 0x0605, 0x0403, 0x0201], 0x0102030405060708n],
  ["int64", "ABCD", [0xffff, 0xffff, 0xffff, 0xfff6], -10],
  ["uint64", "ABCD", [0xffff, 0xffff, 0xffff, 0xffff], 2n ** 64n - 1n],
  ["uint64", "DCBA", [0x0100, 0, 0, 0], 1],
  ["float64", "ABCD", [0x4009, 0x21fb, 0x5444, 0x2d18], Math.PI],
  ["float64", "GHEFCDAB", [0x2d18, 0x5444, 0x21fb, 0x4009], Math.PI],
  ["float64", "HGFEDCBA", [0x182d, 0x4454, 0xfb21, 0x0940], Math.PI],
];

describe("register codec", () => {
  it.each(cases)("%s %s: %j ⇄ %s", (type, order, words, value) => {
    expect(decodeWords(words, spec(type, order))).toEqual(value);
    expect(encodeRegisters(spec(type, order), value)).toEqual(words);
  });

  it("decodes a bit inside a register, honouring the byte order", () => {
    expect(decodeWords([0x8001], spec("bool", "ABCD", { bit: 0 }))).toBe(true);
    expect(decodeWords([0x8001], spec("bool", "ABCD", { bit: 1 }))).toBe(false);
    expect(decodeWords([0x8001], spec("bool", "ABCD", { bit: 15 }))).toBe(true);
    expect(decodeWords([0x0100], spec("bool", "BADC", { bit: 0 }))).toBe(true);
  });

  it("encodes a bit write as FC22 masks that read back as the bit, in every byte order", () => {
    expect(encodeBitMask(spec("bool", "ABCD", { bit: 2 }), true)).toEqual({ andMask: 0xfffb, orMask: 4 });
    expect(encodeBitMask(spec("bool", "ABCD", { bit: 15 }), 0)).toEqual({ andMask: 0x7fff, orMask: 0 });
    expect(encodeBitMask(spec("bool", "BADC", { bit: 0 }), true)).toEqual({ andMask: 0xfeff, orMask: 0x100 });
    for (const order of BYTE_ORDERS)
      for (let bit = 0; bit < 16; bit++) {
        const s = spec("bool", order, { bit });
        for (const start of [0x0000, 0xffff, 0xa5c3]) {
          for (const on of [true, false]) {
            const { andMask, orMask } = encodeBitMask(s, on);
            const after = (start & andMask) | (orMask & ~andMask);
            expect(decodeWords([after], s)).toBe(on);
            // every other bit, as the point's order reads it, is unchanged
            for (let other = 0; other < 16; other++)
              if (other !== bit)
                expect(decodeWords([after], spec("bool", order, { bit: other }))).toBe(
                  decodeWords([start], spec("bool", order, { bit: other })),
                );
          }
        }
      }
    expect(() => encodeBitMask(spec("bool", "ABCD", { bit: 1 }), "yes")).toThrow(EncodeError);
    expect(() => encodeBitMask(spec("uint16", "ABCD"), true)).toThrow(EncodeError);
  });

  it("decodes strings up to the first NUL, high byte first or swapped", () => {
    expect(decodeWords([0x4142, 0x4300], spec("string", "ABCD", { length: 4 }))).toBe("ABC");
    expect(decodeWords([0x4241, 0x0043], spec("string", "BADC", { length: 4 }))).toBe("ABC");
    expect(decodeWords([0x4142, 0x4344], spec("string", "ABCD", { length: 3 }))).toBe("ABC");
    expect(encodeRegisters(spec("string", "ABCD", { length: 5 }), "AB")).toEqual([0x4142, 0, 0]);
    expect(encodeRegisters(spec("string", "DCBA", { length: 4 }), "ABCD")).toEqual([0x4241, 0x4443]);
  });

  it("decodes and encodes arrays of count elements", () => {
    const s = spec("int16", "ABCD", { count: 3 });
    expect(decodeWords([1, 0xffff, 3], s)).toEqual([1, -1, 3]);
    expect(encodeRegisters(s, [1, -1, 3])).toEqual([1, 0xffff, 3]);
    expect(() => encodeRegisters(s, [1, 2])).toThrow(/array of 3 int16/);
  });

  it.each<[DataType, unknown, RegExp]>([
    ["int16", 40000, /int16 takes an integer in -32768..32767, not 40000/],
    ["uint16", -1, /uint16 takes an integer/],
    ["uint32", 1.5, /not 1.5/],
    ["int64", "12x", /not "12x"/],
    ["float32", "1", /float32 takes a number/],
    ["float32", 1e39, /float32 cannot hold/],
    ["float64", Number.NaN, /float64 takes a number/],
    ["bool", true, /bit inside a register/],
  ])("refuses to encode %s %j", (type, value, message) => {
    expect(() => encodeRegisters(spec(type, "ABCD", { bit: 0 }), value)).toThrow(message);
    expect(() => encodeRegisters(spec(type), value)).toThrow(EncodeError);
  });

  it("refuses strings that do not fit", () => {
    expect(() => encodeRegisters(spec("string", "ABCD", { length: 2 }), "ABC")).toThrow(/length 2/);
    expect(() => encodeRegisters(spec("string", "ABCD", { length: 4 }), "€")).toThrow(/latin1/);
    expect(() => encodeRegisters(spec("string", "ABCD", { length: 4 }), 5)).toThrow(/takes a string/);
  });

  it("encodes 64-bit integers from bigint, safe numbers and decimal strings", () => {
    const s = spec("uint64");
    expect(encodeRegisters(s, "18446744073709551615")).toEqual([0xffff, 0xffff, 0xffff, 0xffff]);
    expect(encodeRegisters(s, 2 ** 40)).toEqual([0, 0x0100, 0, 0]);
    expect(() => encodeRegisters(s, 2 ** 60)).toThrow(/uint64/);
  });

  it("permutations are bijections for every order and width", () => {
    for (const order of BYTE_ORDERS) {
      for (const n of [2, 4, 8]) expect([...permutation(order, n)].sort()).toEqual([...Array(n).keys()]);
    }
  });

  it("round-trips random values through every type and order", () => {
    const orders32 = ["ABCD", "BADC", "CDAB", "DCBA"] as const;
    const arb = fc.oneof(
      fc.tuple(fc.constant("int16" as const), fc.integer({ min: -32768, max: 32767 })),
      fc.tuple(fc.constant("uint16" as const), fc.integer({ min: 0, max: 65535 })),
      fc.tuple(fc.constant("int32" as const), fc.integer()),
      fc.tuple(fc.constant("uint32" as const), fc.nat()),
      fc.tuple(fc.constant("float32" as const), fc.float({ noNaN: true, noDefaultInfinity: true })),
      fc.tuple(fc.constant("float64" as const), fc.double({ noNaN: true })),
      fc.tuple(fc.constant("int64" as const), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
      fc.tuple(fc.constant("uint64" as const), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
    );
    fc.assert(
      fc.property(arb, fc.constantFrom(...orders32), ([type, value], order) => {
        const s = spec(type, order);
        const back = decodeWords(encodeRegisters(s, value), s);
        const expected =
          typeof value === "bigint" &&
          value <= BigInt(Number.MAX_SAFE_INTEGER) &&
          value >= -BigInt(Number.MAX_SAFE_INTEGER)
            ? Number(value)
            : value;
        expect(back).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });
});

describe("coil codec", () => {
  it("takes booleans, 0 and 1, and arrays of the right length", () => {
    expect(encodeBits(undefined, true)).toEqual([true]);
    expect(encodeBits(undefined, 0)).toEqual([false]);
    expect(encodeBits(2, [1, false])).toEqual([true, false]);
    expect(() => encodeBits(undefined, "on")).toThrow(/true or false/);
    expect(() => encodeBits(3, [true])).toThrow(/array of 3 booleans/);
  });
});
