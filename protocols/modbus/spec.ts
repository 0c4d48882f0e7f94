/**
 * Resolves a point's Modbus settings (structured, shorthand or classic address; type; byte order;
 * bit; length; count; unit id) into one checked `PointSpec`, or an error saying what is wrong.
 */
import { AddressError, parseAddress } from "./address.js";
import { type CodecSpec, elementWords } from "./codec.js";
import {
  type ByteOrder,
  DATA_TYPES,
  type DataType,
  isBitTable,
  MAX_READ_BITS,
  MAX_READ_REGISTERS,
  ORDER_FAMILY,
  type Table,
} from "./types.js";

/** A point's Modbus settings as config holds them. */
export interface PointInput {
  /** 0-based address with `table`, or a shorthand / classic address string. */
  address: number | string;
  table?: Table | undefined;
  /** The point's type, as the core declares it (`float32`, `int16[]`, …). */
  type: string;
  byteOrder?: ByteOrder | undefined;
  bit?: number | undefined;
  length?: number | undefined;
  count?: number | undefined;
  unitId?: number | undefined;
}

/** A resolved point: where it lives and how to decode it. */
export interface PointSpec extends CodecSpec {
  unitId: number;
  table: Table;
  /** 0-based address of its first register or bit. */
  address: number;
  /** Registers (register tables) or bits (bit tables) it covers. */
  size: number;
}

const is64 = (t: DataType) => t === "int64" || t === "uint64" || t === "float64";

/** Resolves a point; throws an `AddressError` naming the problem. `defaultUnitId` applies when the point has none. */
export function resolvePoint(input: PointInput, defaultUnitId: number): PointSpec {
  const array = input.type.endsWith("[]");
  const base = (array ? input.type.slice(0, -2) : input.type) as DataType;
  if (!(DATA_TYPES as readonly string[]).includes(base)) {
    throw new AddressError(
      `type ${input.type} has no Modbus encoding; use ${DATA_TYPES.join(", ")} or an array of one`,
    );
  }
  let table = input.table;
  let address: number;
  let byteOrder = input.byteOrder;
  if (typeof input.address === "string") {
    const parsed = parseAddress(input.address);
    if (table && table !== parsed.table) {
      throw new AddressError(
        `address '${input.address}' is in the ${parsed.table} table, but table is ${table}`,
      );
    }
    if (parsed.type && parsed.type !== base) {
      throw new AddressError(
        `address '${input.address}' says ${parsed.type}, but the point's type is ${input.type}`,
      );
    }
    if (parsed.byteOrder && byteOrder && ORDER_FAMILY[parsed.byteOrder] !== ORDER_FAMILY[byteOrder]) {
      throw new AddressError(
        `address '${input.address}' says ${parsed.byteOrder}, but byteOrder is ${byteOrder}`,
      );
    }
    table = parsed.table;
    address = parsed.address;
    byteOrder = parsed.byteOrder ?? byteOrder;
  } else {
    if (!table) throw new AddressError("a numeric address needs a table (coil, discrete, holding or input)");
    address = input.address;
  }
  if (array && input.count === undefined) throw new AddressError(`type ${input.type} needs count`);
  if (!array && input.count !== undefined)
    throw new AddressError(`count only applies to array types (e.g. ${base}[])`);
  const count = input.count;
  const spec: PointSpec = {
    unitId: input.unitId ?? defaultUnitId,
    table,
    address,
    type: base,
    byteOrder: byteOrder ?? "ABCD",
    bit: input.bit,
    length: input.length,
    count,
    size: 0,
  };
  spec.size = isBitTable(table) ? bitSize(spec, byteOrder) : registerSize(spec, array);
  const limit = isBitTable(table) ? MAX_READ_BITS : MAX_READ_REGISTERS;
  if (spec.size > limit)
    throw new AddressError(
      `the point covers ${spec.size} ${isBitTable(table) ? "bits" : "registers"}, more than one request reads (${limit})`,
    );
  if (address + spec.size > 65536) throw new AddressError(`the point runs past address 65535`);
  return spec;
}

function bitSize(spec: PointSpec, byteOrder: ByteOrder | undefined): number {
  if (spec.type !== "bool") throw new AddressError(`${spec.table} points are bool, not ${spec.type}`);
  if (spec.bit !== undefined)
    throw new AddressError(`bit only applies to bool points in holding or input registers`);
  if (byteOrder !== undefined) throw new AddressError(`byteOrder does not apply to ${spec.table} points`);
  if (spec.length !== undefined) throw new AddressError(`length only applies to string points`);
  return spec.count ?? 1;
}

function registerSize(spec: PointSpec, array: boolean): number {
  const { type } = spec;
  if (type === "bool") {
    if (spec.bit === undefined)
      throw new AddressError(`a bool in a ${spec.table} register needs bit (0..15)`);
    if (array) throw new AddressError("bool arrays are read from coils or discrete inputs, not registers");
  } else if (spec.bit !== undefined) throw new AddressError(`bit only applies to bool points`);
  if (type === "string") {
    if (spec.length === undefined) throw new AddressError("a string point needs length (characters)");
    if (array) throw new AddressError("string arrays are not supported");
  } else if (spec.length !== undefined) throw new AddressError(`length only applies to string points`);
  if (spec.byteOrder.length === 8 && !is64(type)) {
    throw new AddressError(
      `byte order ${spec.byteOrder} is for 64-bit types; use ABCD, BADC, CDAB or DCBA for ${type}`,
    );
  }
  return elementWords(spec) * (spec.count ?? 1);
}
