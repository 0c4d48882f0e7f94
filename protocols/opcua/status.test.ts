import { StatusCodes } from "node-opcua-status-code";
import { describe, expect, it } from "vitest";
import { isGood, qualityOf } from "./status.js";

describe("qualityOf", () => {
  it.each([
    [StatusCodes.Good, { quality: "good" }],
    [StatusCodes.GoodClamped, { quality: "good", status: "GoodClamped" }],
    [StatusCodes.UncertainLastUsableValue, { quality: "uncertain", status: "UncertainLastUsableValue" }],
    [StatusCodes.UncertainSensorNotAccurate, { quality: "uncertain", status: "UncertainSensorNotAccurate" }],
    [StatusCodes.BadNodeIdUnknown, { quality: "bad", status: "BadNodeIdUnknown" }],
    [StatusCodes.BadSensorFailure, { quality: "bad", status: "BadSensorFailure" }],
    [StatusCodes.BadCommunicationError, { quality: "bad", status: "BadCommunicationError" }],
    [null, { quality: "good" }],
  ])("%s", (code, expected) => {
    expect(qualityOf(code)).toEqual(expected);
  });

  it("tells good from the rest", () => {
    expect(
      [
        StatusCodes.Good,
        StatusCodes.GoodClamped,
        StatusCodes.UncertainInitialValue,
        StatusCodes.BadTimeout,
      ].map(isGood),
    ).toEqual([true, true, false, false]);
  });
});
