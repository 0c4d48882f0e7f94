// biome-ignore-all lint/suspicious/noTemplateCurlyInString: placeholders in plain strings are what these tests feed the loader
import { readFileSync } from "node:fs";
import { mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { substitute, toPointer } from "./substitute.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tagbridge-subst-"));
  await writeFile(join(dir, "token"), "abc\n");
  await writeFile(join(dir, "two-lines"), "a\nb\n\n");
  await writeFile(join(dir, "crlf"), "x\r\n");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const run = (value: unknown, env: Record<string, string> = {}) => substitute(value, { baseDir: dir, env });

describe("substitute", () => {
  it("replaces env placeholders anywhere in a string, in nested objects and arrays", () => {
    const out = run({ a: "x-${env:A}-${env:B}", list: [{ b: "${env:B}!" }] }, { A: "1", B: "two" });
    expect(out.value).toEqual({ a: "x-1-two", list: [{ b: "two!" }] });
    expect(out.errors).toEqual([]);
    expect(out.substituted).toEqual([["a"], ["list", 0, "b"]]);
  });

  it("uses the default when the variable is unset or empty, as a shell does", () => {
    const out = run({ a: "${env:A:-d1}", b: "${env:B:-}", c: "${env:C:-d3}" }, { B: "", C: "set" });
    expect(out.value).toEqual({ a: "d1", b: "", c: "set" });
  });

  it("keeps an empty variable without a default as empty", () => {
    expect(run({ a: "<${env:A}>" }, { A: "" }).value).toEqual({ a: "<>" });
  });

  it("reports a missing variable at the value's path, without a value", () => {
    const out = run({ devices: [{ connection: { password: "${env:PLC_PW}" } }] });
    expect(out.errors).toEqual([
      {
        path: ["devices", 0, "connection", "password"],
        message: "environment variable 'PLC_PW' is not set (use ${env:PLC_PW:-default} for a default)",
      },
    ]);
  });

  it("rejects an invalid variable name", () => {
    expect(run({ a: "${env:1X}" }).errors[0]?.message).toBe(
      "invalid environment variable name '1X' in ${env:…}",
    );
  });

  // Regression (issue 15): both were kept as literal text and passed validate.
  it("reports an unknown placeholder kind and an unclosed placeholder at their paths", () => {
    const out = run({ a: "${envv:X}", b: ["x ${env:X"], c: "$${env:X" });
    expect(out.errors).toEqual([
      {
        path: ["a"],
        message:
          "unknown placeholder '${envv:…}': use ${env:NAME} or ${file:PATH} (write $${ for a literal ${)",
      },
      { path: ["b", 0], message: "unclosed placeholder: '${' without '}' (write $${ for a literal ${)" },
    ]);
    expect((out.value as { c: string }).c).toBe("${env:X");
  });

  it("reads files relative to the base directory, trimming one trailing newline", () => {
    const out = run({ a: "${file:token}", b: "${file:two-lines}", c: `${"$"}{file:${join(dir, "crlf")}}` });
    expect(out.value).toEqual({ a: "abc", b: "a\nb\n", c: "x" });
  });

  // Issue 17: `${file:}` took any absolute path.
  it("reads files only inside the config directory or secretsDir, links resolved", async () => {
    const secrets = await mkdtemp(join(tmpdir(), "tagbridge-secrets-"));
    await writeFile(join(secrets, "pw"), "hunter2\n");
    await symlink("/etc/hostname", join(dir, "escape"));
    const outside = run({ a: "${file:/etc/hostname}", b: "${file:../x}", c: "${file:escape}" });
    expect(outside.errors.map((e) => e.path)).toEqual([["a"], ["b"], ["c"]]);
    for (const e of outside.errors)
      expect(e.message).toMatch(/outside the config file's directory|cannot read/);
    expect(outside.errors[0]!.message).toMatch(
      /outside the config file's directory; put it there or set secretsDir/,
    );
    expect(JSON.stringify(outside.value)).not.toContain(readFileSync("/etc/hostname", "utf8").trim());
    const allowed = substitute(
      { a: `\${file:${join(secrets, "pw")}}` },
      { baseDir: dir, env: {}, secretsDir: secrets },
    );
    expect(allowed).toMatchObject({ value: { a: "hunter2" }, errors: [] });
    await rm(secrets, { recursive: true, force: true });
  });

  it("reports an unreadable file by its resolved path and error code, never its content", () => {
    const out = run({ x: ["${file:missing.txt}"] });
    expect(out.errors).toEqual([
      { path: ["x", 0], message: `cannot read file '${join(dir, "missing.txt")}' (ENOENT)` },
    ]);
  });

  it("turns a whole placeholder that reads as a JSON number or boolean into one, and records it", () => {
    const env = { P: "502", F: "-1.5e3", T: "true", Z: "007", H: "0x10", S: " 1" };
    const out = run(
      {
        p: "${env:P}",
        f: "${env:F}",
        t: "${env:T}",
        z: "${env:Z}",
        h: "${env:H}",
        s: "${env:S}",
        mixed: "${env:P}/x",
      },
      env,
    );
    expect(out.value).toEqual({ p: 502, f: -1500, t: true, z: "007", h: "0x10", s: " 1", mixed: "502/x" });
    expect([...out.coerced]).toEqual([
      ["/p", "502"],
      ["/f", "-1.5e3"],
      ["/t", "true"],
    ]);
  });

  it("reads $${ as a literal ${ and leaves keys alone", () => {
    const out = run({ "${env:K}": "$${env:A} $${other} ${env:A}" }, { A: "a", K: "k" });
    expect(out.value).toEqual({ "${env:K}": "${env:A} ${other} a" });
    expect(out.errors).toEqual([]);
    // Escapes alone take nothing from outside: such a value is not masked as a secret.
    const literal = run({ a: "$${file:/etc/hostname}", b: "x $${env:A} ${env:A}" }, { A: "v" });
    expect(literal.substituted).toEqual([["b"]]);
  });

  it("does not mutate its input and keeps a __proto__ key a plain key", () => {
    const input = JSON.parse('{"a": "${env:A}", "__proto__": {"polluted": "${env:A}"}}') as Record<
      string,
      unknown
    >;
    const out = run(input, { A: "v" });
    expect(input.a).toBe("${env:A}");
    const value = out.value as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(["a", "__proto__"]);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("toPointer", () => {
  it("escapes ~ and / as JSON pointers do", () => {
    expect(toPointer(["devices", 2, "a/b~c"])).toBe("/devices/2/a~1b~0c");
    expect(toPointer([])).toBe("");
  });
});
