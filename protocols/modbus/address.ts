/**
 * Modbus addresses: the compact shorthand (`hr:40001:float32:CDAB`, `coil:12`), the classic
 * reference notation (`40001`, `300001`) and their resolution into one structured form with a
 * 0-based address. Anything that could mean two things is an error that says how to write it.
 */
import { BYTE_ORDERS, type ByteOrder, DATA_TYPES, type DataType, type Table } from "./types.js";

/** An address as parsed from text: the table, the 0-based address, and any type or order it named. */
export interface ParsedAddress {
  table: Table;
  /** 0-based protocol address, 0..65535. */
  address: number;
  type?: DataType;
  byteOrder?: ByteOrder;
}

/** Thrown for an address that cannot be parsed or is ambiguous; the message says how to fix it. */
export class AddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AddressError";
  }
}

/** Table prefixes accepted in the shorthand. */
const PREFIXES: Readonly<Record<string, Table>> = {
  co: "coil",
  coil: "coil",
  c: "coil",
  di: "discrete",
  discrete: "discrete",
  hr: "holding",
  holding: "holding",
  ir: "input",
  input: "input",
};

/** Leading digit of the classic notation for each table. */
const CLASSIC_DIGIT: Readonly<Record<Table, string>> = { coil: "0", discrete: "1", input: "3", holding: "4" };
const TABLE_OF_DIGIT: Readonly<Record<string, Table>> = {
  "0": "coil",
  "1": "discrete",
  "3": "input",
  "4": "holding",
};

/** Short name of a table, as used in the shorthand and in `address` on readings. */
export const TABLE_PREFIX: Readonly<Record<Table, string>> = {
  coil: "co",
  discrete: "di",
  holding: "hr",
  input: "ir",
};

/**
 * Parses a classic reference: 5 digits (`40001` = holding register 0, up to `49999`) or 6 digits
 * (`400001`..`465536`), the first digit naming the table (0 coil, 1 discrete, 3 input, 4 holding).
 */
export function parseClassic(ref: string): ParsedAddress {
  if (!/^\d{5,6}$/.test(ref)) {
    throw new AddressError(
      `'${ref}' is not a classic Modbus reference: it needs 5 or 6 digits, the first naming the table (0 coil, 1 discrete, 3 input, 4 holding), e.g. 40001; for a 0-based address write e.g. hr:${ref}`,
    );
  }
  const table = TABLE_OF_DIGIT[ref[0]!];
  if (!table) {
    throw new AddressError(
      `'${ref}': classic references start with 0 (coil), 1 (discrete), 3 (input) or 4 (holding), not ${ref[0]}`,
    );
  }
  const n = Number(ref.slice(1));
  const max = ref.length === 5 ? 9999 : 65536;
  if (n < 1 || n > max) {
    throw new AddressError(
      `'${ref}': classic references are 1-based, ${CLASSIC_DIGIT[table]}${"0".repeat(ref.length - 2)}1 to ${CLASSIC_DIGIT[table]}${String(max).padStart(ref.length - 1, "0")}`,
    );
  }
  return { table, address: n - 1 };
}

/**
 * Parses the reference part of the shorthand for a known table: a classic reference with that
 * table's digit (`hr:40001`), or a plain 0-based address (`hr:100`, `hr:0x64`). A 5- or 6-digit
 * number whose leading digit is another table's is refused as ambiguous.
 */
function parseRef(table: Table, ref: string): number {
  if (/^0x[0-9a-f]{1,4}$/i.test(ref)) return Number.parseInt(ref.slice(2), 16);
  if (!/^\d+$/.test(ref))
    throw new AddressError(`'${ref}' is not an address: use a number such as 100 or 40001`);
  if (ref.length >= 5) {
    const digit = ref[0]!;
    if (digit === CLASSIC_DIGIT[table]) return parseClassic(ref).address;
    const other = TABLE_OF_DIGIT[digit];
    if (other) {
      throw new AddressError(
        `'${TABLE_PREFIX[table]}:${ref}' is ambiguous: ${ref} is the classic notation of a ${other} reference, but the table is ${table}; write ${TABLE_PREFIX[other]}:${ref} for that, or the structured form { table: ${table}, address: ${Number(ref)} } for a 0-based address`,
      );
    }
  }
  const n = Number(ref);
  if (n > 65535) throw new AddressError(`address ${n} is out of range: Modbus addresses are 0..65535`);
  return n;
}

/**
 * Parses an address string: the shorthand `<table>:<ref>[:<type>][:<byteOrder>]` (table one of
 * co/coil, di/discrete, hr/holding, ir/input) or a bare classic reference (`40001`, `100001`).
 */
export function parseAddress(text: string): ParsedAddress {
  const parts = text.trim().split(":");
  if (parts.length === 1) return parseClassic(parts[0]!);
  const [prefix, ref, ...rest] = parts;
  const table = PREFIXES[prefix!.toLowerCase()];
  if (!table) {
    throw new AddressError(
      `'${text}': unknown table '${prefix}'; use co (coil), di (discrete), hr (holding) or ir (input)`,
    );
  }
  const out: ParsedAddress = { table, address: parseRef(table, ref ?? "") };
  for (const part of rest) {
    if ((DATA_TYPES as readonly string[]).includes(part)) {
      if (out.type) throw new AddressError(`'${text}' names two types`);
      out.type = part as DataType;
    } else if ((BYTE_ORDERS as readonly string[]).includes(part.toUpperCase())) {
      if (out.byteOrder) throw new AddressError(`'${text}' names two byte orders`);
      out.byteOrder = part.toUpperCase() as ByteOrder;
    } else {
      throw new AddressError(
        `'${text}': '${part}' is neither a type (${DATA_TYPES.join(", ")}) nor a byte order (${BYTE_ORDERS.join(", ")})`,
      );
    }
  }
  return out;
}

/** The canonical text of an address, e.g. `hr:0`; with unit id when not the default, `3/hr:0`. */
export function formatAddress(table: Table, address: number, unitId?: number): string {
  const base = `${TABLE_PREFIX[table]}:${address}`;
  return unitId === undefined ? base : `${unitId}/${base}`;
}
