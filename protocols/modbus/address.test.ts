import { describe, expect, it } from "vitest";
import { formatAddress, parseAddress, parseClassic } from "./address.js";
import { resolvePoint } from "./spec.js";
import { exceptionName } from "./types.js";

describe("parseAddress", () => {
  it.each([
    ["40001", { table: "holding", address: 0 }],
    ["49999", { table: "holding", address: 9998 }],
    ["400001", { table: "holding", address: 0 }],
    ["465536", { table: "holding", address: 65535 }],
    ["30010", { table: "input", address: 9 }],
    ["100001", { table: "discrete", address: 0 }],
    ["00001", { table: "coil", address: 0 }],
    ["hr:40001:float32:CDAB", { table: "holding", address: 0, type: "float32", byteOrder: "CDAB" }],
    ["hr:100", { table: "holding", address: 100 }],
    ["hr:0x10:int16", { table: "holding", address: 16, type: "int16" }],
    ["holding:5:dcba", { table: "holding", address: 5, byteOrder: "DCBA" }],
    ["ir:30002:uint64:GHEFCDAB", { table: "input", address: 1, type: "uint64", byteOrder: "GHEFCDAB" }],
    ["co:12", { table: "coil", address: 12 }],
    ["coil:00013", { table: "coil", address: 12 }],
    ["di:7", { table: "discrete", address: 7 }],
    ["hr:65535", { table: "holding", address: 65535 }],
    ["hr:25000", { table: "holding", address: 25000 }],
  ])("%s", (text, expected) => expect(parseAddress(text)).toEqual(expected));

  it.each([
    ["1", /5 or 6 digits/],
    ["4001", /5 or 6 digits.*hr:4001/],
    ["20001", /start with 0 \(coil\), 1 \(discrete\), 3 \(input\) or 4 \(holding\), not 2/],
    ["40000", /1-based/],
    ["465537", /1-based/],
    ["hr:30001", /ambiguous.*input reference.*ir:30001.*\{ table: holding, address: 30001 \}/],
    ["ir:40001", /ambiguous/],
    ["co:10001", /ambiguous/],
    ["xx:1", /unknown table 'xx'/],
    ["hr:abc", /not an address/],
    ["hr:70000", /ambiguous|out of range/],
    ["hr:65536", /out of range/],
    ["hr:1:float32:int16", /two types/],
    ["hr:1:ABCD:CDAB", /two byte orders/],
    ["hr:1:float33", /neither a type/],
  ])("refuses %s", (text, message) => expect(() => parseAddress(text)).toThrow(message));

  it("formats canonical addresses", () => {
    expect(formatAddress("holding", 3)).toBe("hr:3");
    expect(formatAddress("coil", 0, 7)).toBe("7/co:0");
    expect(parseClassic("300001")).toEqual({ table: "input", address: 0 });
  });
});

describe("resolvePoint", () => {
  it.each([
    [
      { address: 0, table: "holding", type: "float32" },
      { address: 0, size: 2, byteOrder: "ABCD", unitId: 1 },
    ],
    [
      { address: "hr:40011:float64:CDAB", type: "float64", unitId: 4 },
      { address: 10, size: 4, byteOrder: "CDAB", unitId: 4 },
    ],
    [{ address: "40001", type: "string", length: 7 }, { size: 4 }],
    [
      { address: 3, table: "input", type: "bool", bit: 4 },
      { size: 1, bit: 4 },
    ],
    [
      { address: "co:0", type: "bool[]", count: 20 },
      { size: 20, count: 20 },
    ],
    [{ address: 2, table: "holding", type: "uint32[]", count: 3 }, { size: 6 }],
    [
      { address: "hr:0", type: "uint64", byteOrder: "HGFEDCBA" },
      { size: 4, byteOrder: "HGFEDCBA" },
    ],
    [{ address: "hr:0:CDAB", type: "int32", byteOrder: "CDAB" }, { byteOrder: "CDAB" }],
  ] as const)("%j", (input, expected) => expect(resolvePoint(input, 1)).toMatchObject(expected));

  it.each([
    [{ address: 0, type: "int16" }, /needs a table/],
    [{ address: "hr:0", table: "input", type: "int16" }, /in the holding table, but table is input/],
    [{ address: "hr:0:float32", type: "int32" }, /says float32, but the point's type is int32/],
    [{ address: "hr:0:CDAB", type: "int32", byteOrder: "ABCD" }, /says CDAB, but byteOrder is ABCD/],
    [{ address: "hr:0", type: "datetime" }, /datetime has no Modbus encoding/],
    [{ address: "co:0", type: "int16" }, /coil points are bool/],
    [{ address: "co:0", type: "bool", bit: 1 }, /bit only applies/],
    [{ address: "di:0", type: "bool", byteOrder: "CDAB" }, /byteOrder does not apply/],
    [{ address: "hr:0", type: "bool" }, /needs bit/],
    [{ address: "hr:0", type: "int16", bit: 2 }, /bit only applies to bool/],
    [{ address: "hr:0", type: "string" }, /needs length/],
    [{ address: "hr:0", type: "int16", length: 2 }, /length only applies/],
    [{ address: "hr:0", type: "int32", byteOrder: "GHEFCDAB" }, /for 64-bit types/],
    [{ address: "hr:0", type: "int16[]" }, /needs count/],
    [{ address: "hr:0", type: "int16", count: 2 }, /count only applies/],
    [{ address: "hr:0", type: "float32[]", count: 63 }, /126 registers, more than one request reads \(125\)/],
    [{ address: "hr:65535", type: "float32" }, /past address 65535/],
    [{ address: "hr:0", type: "bool[]", bit: 0, count: 2 }, /bool arrays are read from coils/],
  ] as const)("refuses %j", (input, message) => expect(() => resolvePoint(input, 1)).toThrow(message));
});

describe("exception names", () => {
  it.each([
    [1, "IllegalFunction"],
    [2, "IllegalDataAddress"],
    [3, "IllegalDataValue"],
    [4, "ServerDeviceFailure"],
    [6, "ServerDeviceBusy"],
    [11, "GatewayTargetDeviceFailedToRespond"],
    [9, "Exception9"],
  ])("%i is %s", (code, name) => expect(exceptionName(code)).toBe(name));
});
