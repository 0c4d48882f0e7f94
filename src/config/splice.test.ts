// biome-ignore-all lint/suspicious/noTemplateCurlyInString: placeholders in plain strings are what these edits write
/**
 * Edits on the text (splice.ts) against the same edits on a yaml Document (edit.ts): on every
 * config of the repository and a generated plant, each device and point edit must give a file
 * that reads to the same value, leave every other line as it was, and refuse the same things with
 * the same errors.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseDocument } from "yaml";
import { scaleConfigYaml } from "../../bench/scale-config.js";
import {
  addDevice,
  addPoint,
  type Edit,
  removeDevice,
  removePoint,
  replaceDevice,
  replacePoint,
} from "./edit.js";
import { spliceEdit } from "./splice.js";

const ROOT = join(import.meta.dirname, "../..");
const files = [
  ...readdirSync(join(ROOT, "config"))
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => join(ROOT, "config", f)),
  ...readdirSync(join(ROOT, "adapters")).map((d) => join(ROOT, "adapters", d, "example.yaml")),
];
const texts = [
  ...files.map((f) => readFileSync(f, "utf8")),
  scaleConfigYaml(200).replace("devices:\n", "devices:\n  # the cells\n"),
];

/** The outcome of an edit made one way: the new text, or the error thrown. */
function outcome(make: () => string): { text?: string; error?: { name: string; message: string } } {
  try {
    return { text: make() };
  } catch (error) {
    const e = error as Error;
    return {
      error: { name: e.constructor.name, message: `${e.message}${"path" in e ? ` at ${e.path}` : ""}` },
    };
  }
}

function viaDocument(text: string, edit: Edit): string {
  const doc = parseDocument(text);
  edit(doc);
  return doc.toString();
}

/** Makes `edit` both ways on `text`; the spliced text, when it was spliced. */
function same(text: string, edit: Edit): string | undefined {
  const spliced = outcome(() => spliceEdit(text, edit.spec!) ?? "");
  if (spliced.text === "") return undefined; // left to the Document edit
  const document = outcome(() => viaDocument(text, edit));
  expect(spliced.error).toEqual(document.error);
  if (spliced.text !== undefined) expect(parse(spliced.text)).toEqual(parse(document.text!));
  return spliced.text;
}

const ids = (text: string) => {
  const value = parse(text) as { devices?: { id: string; points?: { id: string }[] }[] };
  return (value.devices ?? []).filter((d) => Array.isArray(d.points) && d.points.length > 0);
};

describe("spliceEdit", () => {
  it("makes each device and point edit as the Document edit does, on every repository config", () => {
    let spliced = 0;
    for (const text of texts) {
      const devices = ids(text);
      if (devices.length === 0) continue;
      const first = devices[0]!;
      const last = devices[devices.length - 1]!;
      const point = first.points![first.points!.length - 1]!.id;
      const edits: Edit[] = [
        addDevice({
          id: "added",
          type: "simulator",
          connection: {},
          points: [{ id: "p", type: "bool" }],
        } as never),
        addDevice({ id: first.id } as never),
        replaceDevice(last.id, {
          ...last,
          description: "a ${env:HOME} literal",
          pollIntervalMs: 250,
        } as never),
        replaceDevice(last.id, { id: "other" }),
        replaceDevice("nope", { id: "nope" }),
        removeDevice(first.id),
        removeDevice(last.id),
        removeDevice("nope"),
        addPoint(first.id, { id: "new_point", type: "float64", unit: "°C: hot" } as never),
        addPoint(first.id, { id: point }),
        addPoint("nope", { id: "x" }),
        replacePoint(first.id, point, { id: point, type: "string", description: "multi\nline" } as never),
        replacePoint(first.id, "nope", { id: "nope" }),
        replacePoint(first.id, point, { id: "renamed" }),
        removePoint(first.id, point),
        removePoint(first.id, first.points![0]!.id),
        removePoint(first.id, "nope"),
        replaceDevice(first.id, { ...first, description: "****" } as never),
        replaceDevice(first.id, { ...first, description: "***" } as never),
      ];
      for (const edit of edits) if (same(text, edit) !== undefined) spliced++;
    }
    expect(spliced).toBeGreaterThan(50);
  });

  it("keeps a masked secret's placeholder from the file", () => {
    const text = readFileSync(join(ROOT, "adapters/mqtt/example.yaml"), "utf8");
    const device = ids(text)[0]!;
    const edit = replaceDevice(device.id, {
      ...device,
      connection: { ...(device as never as { connection: object }).connection, password: "***" },
    } as never);
    const out = same(text, edit);
    expect(out).toContain("password: ${env:MQTT_PASSWORD:-}");
  });

  it("changes only the lines of the item edited", () => {
    const text = texts[texts.length - 1]!;
    const out = same(
      text,
      replacePoint("line0-cell1", "temp_5", { id: "temp_5", type: "float32" } as never),
    )!;
    const before = text.split("\n");
    const after = out.split("\n");
    expect(after.length).toBe(before.length - 1); // four lines became three
    const at = before.indexOf("      - id: temp_5", before.indexOf("  - id: line0-cell1"));
    expect(after.slice(0, at)).toEqual(before.slice(0, at));
    expect(after.slice(at, at + 2)).toEqual(["      - id: temp_5", "        type: float32"]);
    expect(after.slice(at + 2)).toEqual(before.slice(at + 3));
    expect(out).toContain("  # the cells\n");
  });
});
