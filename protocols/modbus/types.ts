/**
 * The vocabulary of Modbus addressing shared by the pure protocol code: tables, data types and
 * byte orders. Nothing here touches sockets or timers.
 */

/** The four Modbus data tables. Coils and discrete inputs hold bits; the other two 16-bit registers. */
export const TABLES = ["coil", "discrete", "holding", "input"] as const;
/** A Modbus data table. */
export type Table = (typeof TABLES)[number];

/** Data types a Modbus point can decode to. */
export const DATA_TYPES = [
  "bool",
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "uint64",
  "float32",
  "float64",
  "string",
] as const;
/** A Modbus data type. */
export type DataType = (typeof DATA_TYPES)[number];

/**
 * Byte orders. The letters name the value's bytes from most to least significant (A first) in
 * the order they arrive on the wire: `ABCD` is big-endian, `CDAB` big-endian words in swapped
 * order, `BADC` bytes swapped inside each word, `DCBA` little-endian. The 8-letter names are the
 * same four orders spelled out for 64-bit values; a 4-letter name on a 64-bit type means its
 * 8-letter equivalent.
 */
export const BYTE_ORDERS = [
  "ABCD",
  "BADC",
  "CDAB",
  "DCBA",
  "ABCDEFGH",
  "BADCFEHG",
  "GHEFCDAB",
  "HGFEDCBA",
] as const;
/** A byte order name. */
export type ByteOrder = (typeof BYTE_ORDERS)[number];

/** The 4-letter order a 64-bit order name stands for. */
export const ORDER_FAMILY: Readonly<Record<ByteOrder, "ABCD" | "BADC" | "CDAB" | "DCBA">> = {
  ABCD: "ABCD",
  BADC: "BADC",
  CDAB: "CDAB",
  DCBA: "DCBA",
  ABCDEFGH: "ABCD",
  BADCFEHG: "BADC",
  GHEFCDAB: "CDAB",
  HGFEDCBA: "DCBA",
};

/** Whether a table holds bits (coils, discrete inputs) rather than 16-bit registers. */
export function isBitTable(table: Table): boolean {
  return table === "coil" || table === "discrete";
}

/** Whether a table can be written (coils and holding registers). */
export function isWritableTable(table: Table): boolean {
  return table === "coil" || table === "holding";
}

/** Width of one value of a type, in 16-bit registers; strings depend on their length. */
export const TYPE_WORDS: Readonly<Record<Exclude<DataType, "string">, number>> = {
  bool: 1,
  int16: 1,
  uint16: 1,
  int32: 2,
  uint32: 2,
  float32: 2,
  int64: 4,
  uint64: 4,
  float64: 4,
};

/** Largest read in one request: 125 registers (FC3/FC4) or 2000 bits (FC1/FC2), per the spec. */
export const MAX_READ_REGISTERS = 125;
/** Largest bit read in one request. */
export const MAX_READ_BITS = 2000;
/** Largest register write in one request (FC16). */
export const MAX_WRITE_REGISTERS = 123;
/** Largest coil write in one request (FC15). */
export const MAX_WRITE_BITS = 1968;

/** Names of the Modbus exception codes, as put in a reading's `status`. */
export const EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  1: "IllegalFunction",
  2: "IllegalDataAddress",
  3: "IllegalDataValue",
  4: "ServerDeviceFailure",
  5: "Acknowledge",
  6: "ServerDeviceBusy",
  7: "NegativeAcknowledge",
  8: "MemoryParityError",
  10: "GatewayPathUnavailable",
  11: "GatewayTargetDeviceFailedToRespond",
};

/** The status name of an exception code: its name, or `Exception<code>` for codes the spec does not define. */
export function exceptionName(code: number): string {
  return EXCEPTION_NAMES[code] ?? `Exception${code}`;
}
