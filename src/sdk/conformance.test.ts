import Type from "typebox";
import { afterEach, describe, expect, it } from "vitest";
import type { SampleValue } from "../schema/values.js";
import { type Adapter, type AdapterDefinition, defineAdapter, type Sample } from "./adapter.js";
import { adapterConformance, type ConformanceCheck, type ConformanceFixture } from "./conformance.js";
import { undocumented } from "./conformance-rules.js";

/** Ways the fake adapter below can break the contract. */
interface Breakage {
  emitAfterStop?: boolean;
  emitOnCreate?: boolean;
  wrongType?: boolean;
  readAfterStop?: boolean;
  faultyReadsGood?: boolean;
  dropsWrites?: boolean;
  writesReadOnly?: boolean;
  stopHangs?: boolean;
  sampleForEveryPoint?: boolean;
}

const ConnectionSchema = Type.Object(
  { host: Type.Optional(Type.String({ default: "localhost", description: "Host of the fake device." })) },
  { additionalProperties: false },
);
const PointSchema = Type.Object(
  { address: Type.String({ description: "Register name; `missing` reads as bad." }) },
  { additionalProperties: false },
);

const leaks: NodeJS.Timeout[] = [];
afterEach(() => {
  for (const t of leaks.splice(0)) clearInterval(t);
});

/** A small, correct in-memory adapter, unless told how to break. */
function fakeAdapter(
  b: Breakage = {},
  overrides: Partial<AdapterDefinition<typeof ConnectionSchema, typeof PointSchema>> = {},
) {
  return defineAdapter({
    type: "fake",
    description: "An in-memory device for testing the kit.",
    sdk: "^1.0.0",
    connectionSchema: ConnectionSchema,
    pointSchema: PointSchema,
    capabilities: ["read", "write"],
    create(ctx) {
      const values = new Map<string, SampleValue>();
      let running = false;
      if (b.emitOnCreate) ctx.emit([{ point: "a", value: 1 }]);
      const adapter: Adapter<{ address: string }> = {
        async start() {
          running = true;
          if (b.emitAfterStop) leaks.push(setInterval(() => ctx.emit([{ point: "a", value: 1 }]), 10));
        },
        async stop() {
          running = false;
          if (b.stopHangs) await new Promise(() => undefined);
        },
        async read(points) {
          if (!running && !b.readAfterStop) throw new Error("not running");
          const wanted = b.sampleForEveryPoint ? ctx.points : points;
          return wanted.map((p): Sample => {
            if (p.address === "missing" && !b.faultyReadsGood)
              return { point: p.id, value: null, quality: "bad", status: "NoSuchRegister" };
            return { point: p.id, value: values.get(p.id) ?? (b.wrongType ? "12" : 12) };
          });
        },
        async write(point, value) {
          if (point.access !== "readwrite" && !b.writesReadOnly) throw new Error("read-only");
          if (!b.dropsWrites) values.set(point.id, value as SampleValue);
          return {};
        },
      };
      return adapter;
    },
    ...overrides,
  });
}

const fixture: ConformanceFixture<{ address: string }> = {
  settings: {},
  points: [
    { id: "a", type: "int16", address: "r1" },
    { id: "b", type: "float64", access: "readwrite", address: "r2" },
  ],
  faultyPoints: [{ id: "gone", type: "int16", address: "missing" }],
  writeValue: () => 7,
  settleMs: 50,
  timeoutMs: 300,
};

/** The error message of the check whose name contains `name`, or undefined when it passes. */
async function failureOf(checks: ConformanceCheck[], name: string): Promise<string | undefined> {
  const check = checks.find((c) => c.name.includes(name));
  if (!check) throw new Error(`no check named like ${name}: ${checks.map((c) => c.name).join(" / ")}`);
  return check.run().then(
    () => undefined,
    (e: Error) => e.message,
  );
}

describe("adapterConformance", () => {
  it("passes a correct adapter on every check, read, faulty and write checks included", async () => {
    const checks = adapterConformance(fakeAdapter(), fixture);
    expect(checks.length).toBe(14);
    for (const c of checks) await expect(c.run(), c.name).resolves.toBeUndefined();
  });

  it("leaves out checks the adapter's capabilities or the fixture cannot support", () => {
    const names = adapterConformance(fakeAdapter(), { settings: {}, points: fixture.points }).map(
      (c) => c.name,
    );
    expect(names.some((n) => n.startsWith("write"))).toBe(false);
    expect(names.some((n) => n.includes("faulty"))).toBe(false);
    expect(names).toContain("read() rejects after stop()");
  });

  it.each<[string, Breakage, string, RegExp]>([
    [
      "emits after stop",
      { emitAfterStop: true },
      "nothing is emitted after stop",
      /sample\(s\) emitted after stop\(\) resolved \(a\)/,
    ],
    [
      "reads values of the wrong type",
      { wrongType: true },
      "one good sample per requested point",
      /a: value "12" \(string\) does not fit type int16/,
    ],
    ["emits during create()", { emitOnCreate: true }, "create() emits nothing", /emitted during create\(\)/],
    ["reads after stop", { readAfterStop: true }, "read() rejects after stop()", /resolved; it must reject/],
    [
      "reads a faulty point as good",
      { faultyReadsGood: true },
      "faulty points",
      /gone: a faulty point read as good/,
    ],
    ["drops writes", { dropsWrites: true }, "reads it back", /point b reads 12 after writing 7/],
    [
      "accepts writes to read-only points",
      { writesReadOnly: true },
      "read-only point rejects",
      /point a resolved; it must reject/,
    ],
    [
      "never finishes stop()",
      { stopHangs: true },
      "stop() before start()",
      /stop\(\) did not settle within 300 ms/,
    ],
    [
      "answers with samples nobody asked for",
      { sampleForEveryPoint: true },
      "one good sample",
      /returned 3 sample\(s\)/,
    ],
  ])("fails an adapter that %s", async (_what, breakage, check, message) => {
    expect(await failureOf(adapterConformance(fakeAdapter(breakage), fixture), check)).toMatch(message);
  });

  it("fails a schema field without a description", async () => {
    const pointSchema = Type.Object({ address: Type.String() }, { additionalProperties: false });
    const checks = adapterConformance(fakeAdapter({}, { pointSchema }), fixture);
    expect(await failureOf(checks, "description")).toBe("point.address has no description");
  });

  it.each<[string, Partial<AdapterDefinition<typeof ConnectionSchema, typeof PointSchema>>, RegExp]>([
    ["an uppercase type", { type: "Fake" }, /type "Fake" must match/],
    ["an sdk range excluding this SDK", { sdk: "^2.0.0" }, /sdk range \^2.0.0 excludes this SDK, 1.0.0/],
    ["an sdk that is no range", { sdk: "one" }, /sdk "one" is not a semver range/],
    ["an empty description", { description: " " }, /description is empty/],
    [
      "a point field the core owns",
      {
        pointSchema: Type.Object({
          unit: Type.String({ description: "u" }),
        }) as unknown as typeof PointSchema,
      },
      /redeclares core point fields: unit/,
    ],
  ])("fails a definition with %s", async (_what, overrides, message) => {
    expect(await failureOf(adapterConformance(fakeAdapter({}, overrides), fixture), "definition")).toMatch(
      message,
    );
  });

  it("fails capabilities that do not match the methods", async () => {
    const checks = adapterConformance(fakeAdapter({}, { capabilities: ["read", "browse"] }), fixture);
    const message = await failureOf(checks, "capabilities");
    expect(message).toContain("capability browse is declared but browse() is missing");
    expect(message).toContain("write() exists but capability write is not declared");
  });

  it("reports an invalid fixture with every problem and its path", async () => {
    const bad = {
      ...fixture,
      settings: { host: 1 },
      points: [
        { id: "a", type: "int16" },
        { id: "a", type: "nope", address: "x" },
      ],
    };
    const message = await failureOf(adapterConformance(fakeAdapter(), bad), "stop() before start()");
    expect(message).toMatch(/settings\/host: /);
    expect(message).toMatch(/points\[0\]: must have required properties address/);
    expect(message).toMatch(/points\[1\]\/type: /);
    expect(message).toMatch(/points\[1\]\/id: duplicate point id "a"/);
  });

  it("insists on a write value the point does not already hold, so the write check can fail", async () => {
    const message = await failureOf(
      adapterConformance(fakeAdapter(), { ...fixture, writeValue: () => 12 }),
      "reads it back",
    );
    expect(message).toMatch(/already reads 12: writeValue must differ/);
  });
});

describe("undocumented", () => {
  it("walks nested objects, tagged union variants, and array items", () => {
    const schema = Type.Object({
      ok: Type.String({ description: "fine" }),
      nested: Type.Object({ inner: Type.Number() }, { description: "has one" }),
      gen: Type.Union(
        [
          Type.Object({ kind: Type.Literal("sine", { description: "k" }), period: Type.Number() }),
          Type.Object({ kind: Type.Literal("ramp", { description: "k" }) }, { description: "a ramp" }),
        ],
        { description: "generator" },
      ),
      list: Type.Array(Type.Object({ name: Type.String() }, { description: "an entry" }), {
        description: "entries",
      }),
      optional: Type.Optional(Type.Boolean()),
    });
    expect(undocumented(schema, "point")).toEqual([
      "point.nested.inner",
      "point.gen<sine>",
      "point.gen<sine>.period",
      "point.list[].name",
      "point.optional",
    ]);
  });
});
