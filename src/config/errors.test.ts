import Type, { type TSchema } from "typebox";
import { Compile } from "typebox/compile";
import { Settings } from "typebox/system";
import { describe, expect, it } from "vitest";
import { LineCounter, parseDocument } from "yaml";
import { formatConfigErrors, formatPath, fromSchemaErrors, locateErrors, pointerToPath } from "./errors.js";

function errorsFor(schema: TSchema, value: unknown, prefix: (string | number)[] = []) {
  const previous = Settings.Get().maxErrors;
  Settings.Set({ maxErrors: 1000 }); // as validate.ts does: TypeBox stops at 8 by default
  try {
    return fromSchemaErrors(Compile(schema).Errors(value), schema, value, prefix).map((e) => ({
      path: formatPath(e.path),
      message: e.message,
    }));
  } finally {
    Settings.Set({ maxErrors: previous });
  }
}

describe("formatPath", () => {
  it("writes keys dotted, indexes in brackets, odd keys quoted, and the root by name", () => {
    expect(formatPath(["devices", 2, "points", 5, "type"])).toBe("devices[2].points[5].type");
    expect(formatPath([])).toBe("(root)");
    expect(formatPath([0, "a"])).toBe("[0].a");
    expect(formatPath(["connection", "my.key", "x y"])).toBe('connection["my.key"]["x y"]');
  });
});

describe("pointerToPath", () => {
  it("turns segments into indexes only where the value is an array", () => {
    const value = { devices: [{ "0": { "a/b": 1 } }] };
    expect(pointerToPath("/devices/0/0/a~1b", value)).toEqual(["devices", 0, "0", "a/b"]);
    expect(pointerToPath("", value)).toEqual([]);
  });
});

describe("fromSchemaErrors", () => {
  it("collapses a union of literals into one message, and an enum likewise", () => {
    const schema = Type.Object({
      mode: Type.Union([Type.Literal("a"), Type.Literal("b"), Type.Literal(3)]),
      level: Type.Enum(["x", "y"]),
    });
    expect(errorsFor(schema, { mode: "c", level: "z" })).toEqual([
      { path: "mode", message: "must be one of: a, b, 3" },
      { path: "level", message: "must be one of: x, y" },
    ]);
  });

  it("lists a type allowed by the union next to the literals", () => {
    const schema = Type.Object({ n: Type.Union([Type.Literal("auto"), Type.Integer()]) });
    expect(errorsFor(schema, { n: "x" })).toEqual([
      { path: "n", message: "must be one of: auto, any integer" },
    ]);
  });

  it("reports the closest branch of a union of objects, or one message when none is closest", () => {
    const schema = Type.Object({
      auth: Type.Union([
        Type.Object({ kind: Type.Literal("user"), user: Type.String(), password: Type.String() }),
        Type.Object({ kind: Type.Literal("cert"), cert: Type.String() }),
      ]),
    });
    expect(errorsFor(schema, { auth: { kind: "user", user: "u" } })).toEqual([
      { path: "auth.password", message: "is required" },
    ]);
    expect(errorsFor(schema, { auth: 5 })).toEqual([{ path: "auth", message: "must be object" }]);
  });

  it("lists the tags when a tagged union's tag matches no branch", () => {
    const schema = Type.Object({
      auth: Type.Union([
        Type.Object({ kind: Type.Literal("user"), user: Type.String() }),
        Type.Object({ kind: Type.Literal("cert"), cert: Type.String() }),
      ]),
    });
    expect(errorsFor(schema, { auth: { kind: "x" } })).toEqual([
      { path: "auth.kind", message: "must be one of: user, cert" },
    ]);
  });

  it("says the value matches none of the forms when no branch of a union comes closest", () => {
    const schema = Type.Object({
      auth: Type.Union([Type.Object({ user: Type.String() }), Type.Object({ cert: Type.String() })]),
    });
    expect(errorsFor(schema, { auth: { other: 1 } })).toEqual([
      { path: "auth", message: "does not match any of the allowed forms" },
    ]);
  });

  it("keeps the errors of one union apart from the same union in another array item", () => {
    const Tagged = Type.Union([
      Type.Object({ kind: Type.Literal("a"), x: Type.Number() }, { additionalProperties: false }),
      Type.Object({ kind: Type.Literal("b"), y: Type.Number() }, { additionalProperties: false }),
    ]);
    const schema = Type.Object({ items: Type.Array(Type.Object({ g: Tagged })) });
    expect(
      errorsFor(schema, { items: [{ g: { kind: "zz" } }, { g: { kind: "a", x: 1, extra: 2 } }] }),
    ).toEqual([
      { path: "items[0].g.kind", message: "must be one of: a, b" },
      { path: "items[1].g.extra", message: "unknown key 'extra'" },
    ]);
  });

  it("reports an unknown key once, at the key's own path", () => {
    const schema = Type.Object({ a: Type.Object({ b: Type.Number() }, { additionalProperties: false }) });
    expect(errorsFor(schema, { a: { b: 1, c: 2, d: 3 } }, ["devices", 1])).toEqual([
      { path: "devices[1].a.c", message: "unknown key 'c'" },
      { path: "devices[1].a.d", message: "unknown key 'd'" },
    ]);
  });

  it("reports each missing required key at its path, and plain errors in words", () => {
    const schema = Type.Object({ a: Type.String(), b: Type.Integer({ maximum: 3 }), c: Type.Literal(1) });
    expect(errorsFor(schema, { b: 4.5, c: 2 })).toEqual([
      { path: "a", message: "is required" },
      { path: "b", message: "must be integer" },
      { path: "b", message: "must be <= 3" },
      { path: "c", message: "must be 1" },
    ]);
  });

  it("explains a pattern with the field's description", () => {
    const schema = Type.Object({
      id: Type.String({ pattern: "^[a-z]+$", description: "Lowercase letters." }),
    });
    expect(errorsFor(schema, { id: "A" })).toEqual([
      { path: "id", message: 'must match pattern "^[a-z]+$" (Lowercase letters.)' },
    ]);
  });
});

describe("locateErrors", () => {
  const text = "a:\n  b: 1\n  list:\n    - x\n    - { k: v }\n";
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });

  it("places an error at its value, at a key, or at the nearest existing parent", () => {
    const errors = locateErrors(
      [
        { path: ["a", "list", 1, "k"], message: "value" },
        { path: ["a", "list", 1, "k"], message: "key", at: "key" },
        { path: ["a", "list", 1, "missing", "deeper"], message: "parent" },
        { path: ["a", "b"], message: "first" },
      ],
      doc,
      lines,
    );
    expect(errors).toEqual([
      { path: "a.b", message: "first", line: 2, column: 6 },
      { path: "a.list[1].missing.deeper", message: "parent", line: 5, column: 7 },
      { path: "a.list[1].k", message: "key", line: 5, column: 9 },
      { path: "a.list[1].k", message: "value", line: 5, column: 12 },
    ]);
  });

  it("drops exact duplicates", () => {
    const e = { path: ["a"], message: "m" };
    expect(locateErrors([e, e], doc, lines)).toHaveLength(1);
  });
});

describe("formatConfigErrors", () => {
  it("writes one line per error, with the position when known", () => {
    expect(
      formatConfigErrors("gateway.yaml", [
        { path: "devices[2].points[5].type", message: "must be one of: a, b", line: 14, column: 9 },
        { path: "(root)", message: "empty file" },
      ]),
    ).toBe(
      "gateway.yaml:14:9 devices[2].points[5].type: must be one of: a, b\ngateway.yaml (root): empty file",
    );
  });
});
