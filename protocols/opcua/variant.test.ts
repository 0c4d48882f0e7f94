import { LocalizedText, QualifiedName } from "node-opcua-data-model";
import { makeNodeId } from "node-opcua-nodeid";
import { StatusCodes } from "node-opcua-status-code";
import { DataType, Variant, VariantArrayType } from "node-opcua-variant";
import { describe, expect, it } from "vitest";
import { CoercionError, int64ToValue, pointTypeOf, valueToVariant, variantToValue } from "./variant.js";

const S = VariantArrayType.Scalar;
const v = (dataType: DataType, value: unknown, arrayType = S) => new Variant({ dataType, arrayType, value });
const date = new Date("2025-03-04T05:06:07.089Z");

describe("variantToValue", () => {
  it.each<[string, Variant, unknown, string]>([
    ["Boolean", v(DataType.Boolean, true), true, "bool"],
    ["SByte", v(DataType.SByte, -5), -5, "int16"],
    ["Byte", v(DataType.Byte, 250), 250, "uint16"],
    ["Int16", v(DataType.Int16, -32768), -32768, "int16"],
    ["UInt16", v(DataType.UInt16, 65535), 65535, "uint16"],
    ["Int32", v(DataType.Int32, -2147483648), -2147483648, "int32"],
    ["UInt32", v(DataType.UInt32, 4294967295), 4294967295, "uint32"],
    ["Int64 small", v(DataType.Int64, [0xffffffff, 0xfffffffb]), -5, "int64"],
    ["Int64 2^53", v(DataType.Int64, [0x200000, 0]), "9007199254740992", "int64"],
    ["Int64 min", v(DataType.Int64, [0x80000000, 0]), "-9223372036854775808", "int64"],
    ["UInt64 max", v(DataType.UInt64, [0xffffffff, 0xffffffff]), "18446744073709551615", "uint64"],
    ["UInt64 safe", v(DataType.UInt64, [0x1fffff, 0xffffffff]), 9007199254740991, "uint64"],
    ["Float", v(DataType.Float, 1.5), 1.5, "float32"],
    ["Double", v(DataType.Double, -0.1), -0.1, "float64"],
    ["String", v(DataType.String, "héllo"), "héllo", "string"],
    ["DateTime", v(DataType.DateTime, date), "2025-03-04T05:06:07.089Z", "datetime"],
    ["ByteString", v(DataType.ByteString, Buffer.from([1, 2, 255])), "AQL/", "bytes"],
    [
      "LocalizedText",
      v(DataType.LocalizedText, new LocalizedText({ text: "Hi", locale: "en" })),
      "Hi",
      "string",
    ],
    [
      "QualifiedName",
      v(DataType.QualifiedName, new QualifiedName({ namespaceIndex: 2, name: "X" })),
      "2:X",
      "string",
    ],
    [
      "Guid",
      v(DataType.Guid, "72962B91-FA75-4AE6-8D28-B404DC7DAF63"),
      "72962B91-FA75-4AE6-8D28-B404DC7DAF63",
      "string",
    ],
    ["NodeId", v(DataType.NodeId, makeNodeId(1234, 3)), "ns=3;i=1234", "string"],
    ["StatusCode", v(DataType.StatusCode, StatusCodes.BadTimeout), "BadTimeout", "string"],
    ["Int32[]", v(DataType.Int32, [1, -2], VariantArrayType.Array), [1, -2], "int32[]"],
    ["Double[]", v(DataType.Double, [0.5], VariantArrayType.Array), [0.5], "float64[]"],
    ["String[]", v(DataType.String, ["a", "b"], VariantArrayType.Array), ["a", "b"], "string[]"],
    ["Boolean[]", v(DataType.Boolean, [true, false], VariantArrayType.Array), [true, false], "bool[]"],
    [
      "UInt64[]",
      v(
        DataType.UInt64,
        [
          [0, 7],
          [0xffffffff, 0xffffffff],
        ],
        VariantArrayType.Array,
      ),
      [7, "18446744073709551615"],
      "uint64[]",
    ],
    ["Null", new Variant({ dataType: DataType.Null }), null, "json"],
  ])("%s", (_name, variant, value, type) => {
    expect(variantToValue(variant)).toEqual({ value, type });
  });

  it("flattens a matrix", () => {
    const m = new Variant({
      dataType: DataType.Int16,
      arrayType: VariantArrayType.Matrix,
      value: [1, 2, 3, 4],
      dimensions: [2, 2],
    });
    expect(variantToValue(m)).toEqual({ value: [1, 2, 3, 4], type: "int16[]" });
  });

  it("maps data types to point types", () => {
    expect([
      pointTypeOf(DataType.Float),
      pointTypeOf(DataType.UInt64, true),
      pointTypeOf(DataType.Null),
    ]).toEqual(["float32", "uint64[]", undefined]);
    expect([int64ToValue([0, 1], true), int64ToValue([0xffffffff, 0xffffffff], true)]).toEqual([1, -1]);
  });
});

describe("valueToVariant", () => {
  const round = (dt: DataType, value: unknown, isArray = false) =>
    variantToValue(valueToVariant(dt, isArray, value)).value;

  it.each<[DataType, unknown, unknown]>([
    [DataType.Boolean, true, true],
    [DataType.Boolean, "false", false],
    [DataType.Boolean, 1, true],
    [DataType.Int16, "-12", -12],
    [DataType.UInt32, 4294967295, 4294967295],
    [DataType.Int64, "-9223372036854775808", "-9223372036854775808"],
    [DataType.Int64, -3, -3],
    [DataType.UInt64, "18446744073709551615", "18446744073709551615"],
    [DataType.UInt64, 12n, 12],
    [DataType.Float, "2.5", 2.5],
    [DataType.Double, 1e300, 1e300],
    [DataType.String, 42, "42"],
    [DataType.LocalizedText, "txt", "txt"],
    [DataType.DateTime, "2025-03-04T05:06:07.089Z", "2025-03-04T05:06:07.089Z"],
    [DataType.ByteString, "AQL/", "AQL/"],
  ])("coerces to DataType %s: %s", (dt, input, back) => {
    expect(round(dt, input)).toEqual(back);
  });

  it("writes arrays element by element", () => {
    expect(round(DataType.Int32, [1, "2"], true)).toEqual([1, 2]);
  });

  it.each<[DataType, unknown, RegExp]>([
    [DataType.Int16, 40000, /Int16 node: expected an integer in \[-32768, 32767\]/],
    [DataType.Byte, 1.5, /Byte node/],
    [DataType.UInt32, -1, /UInt32/],
    [DataType.Boolean, "yes", /Boolean/],
    [DataType.Int64, "9223372036854775808", /out of range/],
    [DataType.UInt64, 1.5, /expected an integer/],
    [DataType.Double, "abc", /Double/],
    [DataType.Float, 1e39, /out of range/],
    [DataType.String, { a: 1 }, /String/],
    [DataType.DateTime, "not a date", /ISO 8601/],
    [DataType.ExtensionObject, {}, /not supported/],
    [DataType.Int32, 5, /expected an array/],
    // An int64 point hands over a bigint: the refusal names it instead of failing to print it.
    [DataType.Int32, 2n ** 40n, /cannot write "1099511627776" to a Int32 node/],
    [DataType.Int64, 2n ** 64n, /cannot write "18446744073709551616" to a Int64 node/],
  ])("refuses %s %s", (dt, input, message) => {
    const isArray = message.source.includes("array");
    expect(() => valueToVariant(dt, isArray, input)).toThrow(CoercionError);
    expect(() => valueToVariant(dt, isArray, input)).toThrow(message);
  });
});
