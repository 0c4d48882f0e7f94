/**
 * Encoding and decoding of Modbus register contents for every data type and byte order.
 * `makeDecoder` builds one closure per point, so the hot path does no lookups and no allocation
 * beyond the value itself.
 */
import type { ByteOrder, DataType } from "./types.js";
import { ORDER_FAMILY, TYPE_WORDS } from "./types.js";

/** What the codec needs to know of a register point. */
export interface CodecSpec {
  type: DataType;
  byteOrder: ByteOrder;
  /** Bit 0..15 (0 = least significant) of a `bool` in a register. */
  bit?: number | undefined;
  /** Characters (bytes) of a `string`. */
  length?: number | undefined;
  /** Elements of an array; undefined for a scalar. */
  count?: number | undefined;
}

/** A decoded value: a number, a bigint (64-bit integers beyond ±2^53), a boolean, a string or an array of them. */
export type ModbusValue = number | bigint | boolean | string | ModbusValue[];

/** Reads one value at a byte offset of a buffer of registers as received (big-endian words). */
export type Decoder = (bytes: Uint8Array, byteOffset: number) => ModbusValue;

/** Registers one element of a point occupies. */
export function elementWords(spec: CodecSpec): number {
  if (spec.type === "string") return Math.ceil((spec.length ?? 0) / 2);
  return TYPE_WORDS[spec.type];
}

/** Wire position → logical (most significant first) position, for `n` bytes in `order`. */
export function permutation(order: ByteOrder, n: number): number[] {
  const family = ORDER_FAMILY[order];
  const words = n / 2;
  return Array.from({ length: n }, (_, i) => {
    switch (family) {
      case "ABCD":
        return i;
      case "DCBA":
        return n - 1 - i;
      case "BADC":
        return i ^ 1;
      default:
        return (words - 1 - (i >> 1)) * 2 + (i & 1); // CDAB
    }
  });
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function scalarDecoder(spec: CodecSpec): Decoder {
  const { type } = spec;
  if (type === "string") return stringDecoder(spec.length ?? 0, spec.byteOrder);
  const n = TYPE_WORDS[type] * 2;
  const perm = permutation(spec.byteOrder, n);
  const scratch = new Uint8Array(8);
  const view = new DataView(scratch.buffer);
  // Copies the value's bytes into `view` in most-significant-first order; at most 8 bytes, no
  // allocation (the decoders then read it at offset 0).
  const load = (bytes: Uint8Array, off: number): DataView => {
    for (let i = 0; i < n; i++) scratch[perm[i]!] = bytes[off + i]!;
    return view;
  };
  switch (type) {
    case "bool": {
      const mask = 1 << (spec.bit ?? 0);
      return (b, o) => {
        const v = load(b, o);
        return (v.getUint16(0) & mask) !== 0;
      };
    }
    case "int16":
      return (b, o) => {
        const v = load(b, o);
        return v.getInt16(0);
      };
    case "uint16":
      return (b, o) => {
        const v = load(b, o);
        return v.getUint16(0);
      };
    case "int32":
      return (b, o) => {
        const v = load(b, o);
        return v.getInt32(0);
      };
    case "uint32":
      return (b, o) => {
        const v = load(b, o);
        return v.getUint32(0);
      };
    case "float32":
      return (b, o) => {
        const v = load(b, o);
        return v.getFloat32(0);
      };
    case "float64":
      return (b, o) => {
        const v = load(b, o);
        return v.getFloat64(0);
      };
    case "int64":
    case "uint64":
      return (b, o) => {
        const v = load(b, o);
        const big = type === "int64" ? v.getBigInt64(0) : v.getBigUint64(0);
        return big > SAFE || big < -SAFE ? big : Number(big);
      };
  }
}

function stringDecoder(length: number, order: ByteOrder): Decoder {
  const swap = ORDER_FAMILY[order] === "BADC" || ORDER_FAMILY[order] === "DCBA";
  return (bytes, off) => {
    let out = "";
    for (let i = 0; i < length; i++) {
      const c = bytes[off + (swap ? i ^ 1 : i)]!;
      if (c === 0) break;
      out += String.fromCharCode(c);
    }
    return out;
  };
}

/** Builds the decoder of a register point: a scalar, or `count` consecutive elements. */
export function makeDecoder(spec: CodecSpec): Decoder {
  const one = scalarDecoder(spec);
  if (spec.count === undefined) return one;
  const count = spec.count;
  const step = elementWords(spec) * 2;
  return (b, o) => {
    const out: ModbusValue[] = new Array(count);
    for (let i = 0; i < count; i++) out[i] = one(b, o + i * step);
    return out;
  };
}

/** Decodes one value from registers given as numbers (e.g. for tests and tools). */
export function decodeWords(words: readonly number[], spec: CodecSpec): ModbusValue {
  return makeDecoder(spec)(wordsToBytes(words), 0);
}

/** Registers as big-endian bytes, the way they travel. */
export function wordsToBytes(words: readonly number[]): Uint8Array {
  const out = new Uint8Array(words.length * 2);
  for (let i = 0; i < words.length; i++) {
    out[2 * i] = (words[i]! >> 8) & 0xff;
    out[2 * i + 1] = words[i]! & 0xff;
  }
  return out;
}

/** Thrown when a value cannot be encoded for a point's type; the message names both. */
export class EncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EncodeError";
  }
}

const INT_RANGES: Readonly<Record<string, readonly [bigint, bigint]>> = {
  int16: [-32768n, 32767n],
  uint16: [0n, 65535n],
  int32: [-2147483648n, 2147483647n],
  uint32: [0n, 4294967295n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

function toInteger(type: DataType, value: unknown): bigint {
  let big: bigint | undefined;
  if (typeof value === "bigint") big = value;
  else if (typeof value === "number" && Number.isSafeInteger(value)) big = BigInt(value);
  else if (typeof value === "string" && /^-?\d+$/.test(value.trim())) big = BigInt(value.trim());
  const range = INT_RANGES[type]!;
  if (big === undefined || big < range[0] || big > range[1]) {
    throw new EncodeError(`${type} takes an integer in ${range[0]}..${range[1]}, not ${show(value)}`);
  }
  return big;
}

const show = (v: unknown) => (typeof v === "bigint" ? `${v}n` : JSON.stringify(v));

/** Encodes one scalar into big-endian (ABCD) bytes. */
function logicalBytes(spec: CodecSpec, value: unknown): Uint8Array {
  const { type } = spec;
  if (type === "string") {
    const length = spec.length ?? 0;
    if (typeof value !== "string") throw new EncodeError(`string takes a string, not ${show(value)}`);
    const bytes = Buffer.from(value, "latin1");
    if (bytes.length > length || Buffer.from(bytes).toString("latin1") !== value) {
      throw new EncodeError(
        `string of length ${length} cannot hold ${show(value)} (latin1, at most ${length} chars)`,
      );
    }
    const out = new Uint8Array(elementWords(spec) * 2);
    out.set(bytes);
    return out;
  }
  const out = new Uint8Array(TYPE_WORDS[type] * 2);
  const v = new DataView(out.buffer);
  switch (type) {
    case "bool":
      throw new EncodeError("a bit inside a register cannot be written on its own");
    case "float32":
    case "float64": {
      if (typeof value !== "number" || Number.isNaN(value)) {
        throw new EncodeError(`${type} takes a number, not ${show(value)}`);
      }
      if (type === "float32") {
        if (Number.isFinite(value) && Math.abs(value) > 3.4028234663852886e38) {
          throw new EncodeError(`float32 cannot hold ${value}`);
        }
        v.setFloat32(0, value);
      } else v.setFloat64(0, value);
      return out;
    }
    case "int16":
    case "uint16":
      v.setUint16(0, Number(BigInt.asUintN(16, toInteger(type, value))));
      return out;
    case "int32":
    case "uint32":
      v.setUint32(0, Number(BigInt.asUintN(32, toInteger(type, value))));
      return out;
    case "int64":
    case "uint64":
      v.setBigUint64(0, BigInt.asUintN(64, toInteger(type, value)));
      return out;
  }
}

/** Puts logical (most significant first) bytes into wire order. */
function toWire(spec: CodecSpec, logical: Uint8Array): Uint8Array {
  if (spec.type === "string") {
    const swap = ORDER_FAMILY[spec.byteOrder] === "BADC" || ORDER_FAMILY[spec.byteOrder] === "DCBA";
    if (!swap) return logical;
    return logical.map((_, i) => logical[i ^ 1]!);
  }
  const perm = permutation(spec.byteOrder, logical.length);
  return logical.map((_, i) => logical[perm[i]!]!);
}

/** Encodes a value (a scalar, or an array of `count` elements) into the registers to write. */
export function encodeRegisters(spec: CodecSpec, value: unknown): number[] {
  const items: unknown[] = spec.count === undefined ? [value] : (value as unknown[]);
  if (spec.count !== undefined && (!Array.isArray(value) || value.length !== spec.count)) {
    throw new EncodeError(`an array of ${spec.count} ${spec.type} is expected, not ${show(value)}`);
  }
  const words: number[] = [];
  for (const item of items) {
    const wire = toWire(spec, logicalBytes(spec, item));
    for (let i = 0; i < wire.length; i += 2) words.push((wire[i]! << 8) | wire[i + 1]!);
  }
  return words;
}

/**
 * The AND and OR masks of a Mask Write Register request (FC22) setting one bit of a register to
 * `value` (a boolean, or 0/1) and leaving the others as they are. The bit is numbered as it reads
 * (after the point's byte order), so a point reads back what was written.
 */
export function encodeBitMask(spec: CodecSpec, value: unknown): { andMask: number; orMask: number } {
  if (spec.type !== "bool" || spec.count !== undefined) {
    throw new EncodeError("only a single bit inside a register is written with a mask");
  }
  const [on] = encodeBits(undefined, value);
  const logical = new Uint8Array(2);
  new DataView(logical.buffer).setUint16(0, 1 << (spec.bit ?? 0));
  const wire = toWire(spec, logical);
  const bit = (wire[0]! << 8) | wire[1]!;
  return { andMask: ~bit & 0xffff, orMask: on ? bit : 0 };
}

/** Encodes a coil value (a boolean, or an array of `count` booleans; 0 and 1 are accepted too). */
export function encodeBits(count: number | undefined, value: unknown): boolean[] {
  const one = (v: unknown): boolean => {
    if (typeof v === "boolean") return v;
    if (v === 0 || v === 1) return v === 1;
    throw new EncodeError(`a coil takes true or false, not ${show(v)}`);
  };
  if (count === undefined) return [one(value)];
  if (!Array.isArray(value) || value.length !== count) {
    throw new EncodeError(`an array of ${count} booleans is expected, not ${show(value)}`);
  }
  return value.map(one);
}
