/**
 * fast-yaml.ts against the `yaml` library: whenever the fast reader answers, it must give the value
 * the library gives, on a text the library reads without error, with the same start offset for
 * every key and value. Checked on every YAML file of the repository, on a table of snippets, and on
 * thousands of mutations of the example files.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { documentLocator, type Path } from "./errors.js";
import { readYaml } from "./fast-yaml.js";
import { positionsLocator } from "./source.js";

const ROOT = join(import.meta.dirname, "../..");

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === "node_modules" || e.name.startsWith(".") || e.name === "dist") return [];
    const path = join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(e.name) ? [path] : [];
  });
}

/** Every path of a value's keys and items. */
function paths(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== "object") return [];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return entries.flatMap(([k, v]) => [[...prefix, k], ...paths(v, [...prefix, k])]);
}

/** Checks the fast reader against the library on `text`; whether the fast reader answered. */
function same(text: string): boolean {
  const fast = readYaml(text, { positions: true });
  if (!fast) return false;
  const doc = parseDocument(text, { prettyErrors: false });
  expect(
    doc.errors.map((e) => e.message),
    text,
  ).toEqual([]);
  const expected = doc.toJS({ maxAliasCount: 1000 });
  expect(fast.value, text).toEqual(expected);
  expect(JSON.stringify(fast.value), text).toBe(JSON.stringify(expected));
  const ours = positionsLocator(fast.value, fast.positions!);
  const theirs = documentLocator(doc);
  for (const path of [[], ...paths(expected)]) {
    for (const at of ["key", "value"] as const) {
      expect(ours(path, at), `${text}\n${JSON.stringify(path)} ${at}`).toBe(theirs(path, at));
      const deeper = [...path, "missing", 0];
      expect(ours(deeper, at), `${text}\n${JSON.stringify(deeper)} ${at}`).toBe(theirs(deeper, at));
    }
  }
  return true;
}

const READ = [
  "",
  "# only a comment\n",
  "a: 1",
  "a: 1\r\nb: [x, 'y']\r\n",
  "---\na: b\n",
  "--- # start\na: b\n",
  "a:\nb: ~\nc: null\nd: Null\ne: NULL\nf: 'null'\n",
  "t: [true, True, TRUE, false, False, FALSE, yes, no, on, off, tRue]\n",
  "n: [0, -0, +12, 012, 0o17, 0x1F, 0xg, 1_000, 1.5, -.5, +1., 1e3, 1.5E-2, .inf, -.Inf, +.INF, .nan, .NaN, 1.0]\n",
  "n: 12345678901234567890\nm: 0o\n",
  "s: hello world\nt: trailing   \nu: with # comment\nv: a#b\nw: 'it''s'\nx: \"q\\\"\\n\\t\\u00e9\\x41\\U0001F600\"\n",
  "url: http://host:8080/path?x=1\nwin: 'C:\\dir'\n",
  "1: one\ntrue: t\n1.50: f\n0x10: h\n'quoted key': q\n\"dq\": d\n",
  "__proto__: 1\nconstructor: 2\ntoString: 3\n",
  "list:\n- a\n- b\nnext: 1\n",
  "list:\n  - a\n  -\n  - # c\n  - c: 1\n    d: 2\n  - - x\n    - y\n  - [1, {k: v}]\n",
  "- a\n-  b: 1\n   c: { x: [1, \"2\"], y: 'z' }\n",
  "a:\n  b:\n    c:\n      d: deep\n  e: 1\nf: 2\n",
  "a:   # comment\n  b: 1\nc:   # null\nd: 1\n",
  "empty: {}\nlist: []\nspaced: {  }\nnested: [[], {}]\n",
  "flow: { a: hello world, b: -1, c: '', d: \"\" }\n",
  "key:\n  value\nnext: 1\n",
  "a: -1\nb: -x\nc: ?x\nd: :x\ne: x:y\n",
  "  indented: 1\n  root: 2\n",
  "scalar at root\n",
  "- root\n- list\n",
  "k: v\n\n\n# trailing comment\n",
  "a: [1,\n  2]\n",
  "a: [1, 2,]\nb: { c: 1, }\n",
  "points:\n  - {\n      id: t, # the id\n      type: float32,\n\n      deadband: { mode: absolute, value: 0.05 },\n    }\n  - { id: c }\n",
  "a: [\n  # comment\n  1, 'two',\n  \"three\" ]\nb: 2\n",
  "unicode: °C\nemoji: 😀\nkey °: 1\n",
];

const REFUSED = [
  "a: &x 1\nb: *x\n",
  "a: !!str 1\n",
  "a: |\n  block\n",
  "a: >\n  folded\n",
  "a: plain\n  continued\n",
  "a: 'multi\n  line'\n",
  "a: 1\na: 2\n",
  "a:\tb\n",
  "? complex\n: key\n",
  "a: b: c\n",
  "a: - b\n",
  "<<: {a: 1}\n",
  "a: 1\n---\nb: 2\n",
  "%YAML 1.2\n---\na: 1\n",
  "a: [1,\n2]\n",
  "a: { b: 1\n  c: 2 }\n",
  "a: [1, , 2]\n",
  "a: { b: c\n  d }\n",
  "a: { b:\n  1 }\n",
  "a: {b}\n",
  "a: {b: }\n",
  "a: 'x' y\n",
  "a:\n  - b\n c: 1\n",
  "a: 1\n  b: 2\n",
  "{a: 1}: x\n",
  '"a" b: 1\n',
  "\ufeffa: 1\n",
  "null: n\n",
];

describe("readYaml", () => {
  it("reads what the yaml library reads, to the same value and offsets", () => {
    for (const text of READ) expect(same(text), text).toBe(true);
  });

  it("records where block sequence items start and end, down to the depth asked", () => {
    const text = "a:\n  - x: 1\n    # c\n    y: [2,\n      3]\n  # about z\n  - z\nb: 1\n";
    const read = readYaml(text, { positions: 2 })!;
    const list = (read.value as { a: unknown[] }).a;
    expect(read.positions!.of.get(list)?.get(0)?.[0]).toBe(text.indexOf("- x"));
    expect(read.positions!.of.get(list)?.get(1)?.[0]).toBe(text.indexOf("- z"));
    expect(read.positions!.ends.get(list)).toEqual([text.indexOf("3]") + 2, text.indexOf("- z") + 3]);
    expect(read.positions!.of.get(list[0] as object)).toBeUndefined(); // depth 2: not recorded
  });

  it("leaves everything else to the yaml library", () => {
    for (const text of REFUSED) expect(readYaml(text), text).toBeUndefined();
  });

  it("reads every YAML file of the repository as the yaml library does", () => {
    const files = yamlFiles(ROOT);
    expect(files.length).toBeGreaterThan(10);
    let read = 0;
    for (const file of files) if (same(readFileSync(file, "utf8"))) read++;
    expect(read / files.length).toBeGreaterThan(0.8);
  });

  it("agrees with the yaml library on mutated example files whenever it answers", () => {
    const texts = yamlFiles(ROOT).map((f) => readFileSync(f, "utf8"));
    const alphabet = [
      " ",
      "  ",
      "\n",
      ":",
      ": ",
      "-",
      "- ",
      "#",
      " #",
      "'",
      '"',
      "[",
      "]",
      "{",
      "}",
      ",",
      "0",
      "x",
      "\\",
    ];
    let seed = 19;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let answered = 0;
    for (let round = 0; round < 1500; round++) {
      let text = texts[random(texts.length)]!;
      for (let m = 0; m <= random(3); m++) {
        const at = random(text.length);
        const cut = random(3);
        text = text.slice(0, at) + alphabet[random(alphabet.length)]! + text.slice(at + cut);
      }
      if (same(text)) answered++;
    }
    expect(answered).toBeGreaterThan(150);
  }, 120_000);
});
