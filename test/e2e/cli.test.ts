/**
 * The CLI as a user runs it: validate, run with hot reload and SIGHUP, clean shutdown.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, ROOT } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "tagbridge-cli-"));

const BROKEN = `version: 1
gateway: bad gateway id
http: { port: 99999 }
colour: blue
devices:
  - id: a
    type: simulator
    connection: {}
    points:
      - { id: t, type: float64, generator: { kind: sine } }
  - id: b
    type: simulator
    connection: { seed: one }
    points:
      - { id: t, type: float64, generator: { kind: sine } }
      - { id: u, type: float65, generator: { kind: sine } }
      - { id: t, type: bool, generator: { kind: square } }
  - id: c
    type: modbuss
    connection: {}
    points: []
`;

function config(port: number, pressInterval: number, extraPoint = ""): string {
  return `version: 1
gateway: cli-gw
dataDir: ${dir}/data
http: { port: ${port} }
devices:
  - id: steady
    type: simulator
    pollIntervalMs: 50
    connection: {}
    points:
      - { id: n, type: uint32, generator: { kind: counter }, publish: always }
  - id: press
    type: simulator
    pollIntervalMs: ${pressInterval}
    connection: {}
    points:
      - { id: p, type: float64, generator: { kind: sine } }${extraPoint}
`;
}

describe("tagbridge CLI", () => {
  it("--version and --help", async () => {
    const v = cli(["--version"]);
    expect(await v.exited).toBe(0);
    expect(v.output().trim()).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version);
    const h = cli(["--help"]);
    expect(await h.exited).toBe(0);
    for (const cmd of ["run", "validate", "demo"]) expect(h.output()).toContain(cmd);
  });

  it("validate lists every error with its path and line, and exits 1", async () => {
    const file = join(dir, "broken.yaml");
    writeFileSync(file, BROKEN);
    const p = cli(["validate", file]);
    expect(await p.exited).toBe(1);
    const out = p.output();
    for (const expected of [
      /broken\.yaml:2:\d+ gateway: must match pattern/,
      /broken\.yaml:3:\d+ http\.port: must be <= 65535/,
      /broken\.yaml:4:\d+ colour: unknown key 'colour'/,
      /devices\[1\]\.connection\.seed: must be integer/,
      /devices\[1\]\.points\[1\]\.type: must be one of: bool, int16/,
      /devices\[1\]\.points\[2\]\.id: duplicate point id 't'/,
      /devices\[2\]\.type: unknown adapter type 'modbuss' \(known: [a-z, ]*simulator\)/,
    ])
      expect(out).toMatch(expected);
    expect(out).toMatch(/7 error\(s\)/);
  });

  it("validate accepts the demo config", async () => {
    const p = cli(["validate", join(ROOT, "config/demo.yaml")]);
    expect(await p.exited).toBe(0);
    expect(p.output()).toMatch(/valid \(gateway 'demo-gw', 6 devices, \d+ points\)/);
  });

  it("run refuses an invalid config and starts nothing", async () => {
    const p = cli(["run", "-c", join(dir, "broken.yaml")]);
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/nothing started/);
  });

  it("run hot-reloads: only changed devices restart, an invalid file is rejected, SIGHUP reloads, SIGTERM exits 0", async () => {
    const file = join(dir, "gateway.yaml");
    writeFileSync(file, config(0, 100));
    const p = cli(["run", "-c", file, "--log-level", "info"]);
    const [, port] = await p.waitFor(/Server listening at http:\/\/127\.0\.0\.1:(\d+)/);
    const api = `http://127.0.0.1:${port}/api/v1`;
    await p.waitFor(/first start: created an admin API token; it is in (\S+)/);
    expect((await fetch(`${api}/devices`)).status).toBe(401); // no anonymous access unless configured
    const tokenFile = join(dir, "data", "admin-token");
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const token = readFileSync(tokenFile, "utf8").trim();
    const device = async (id: string) =>
      (await (
        await fetch(`${api}/devices/${id}`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as {
        stateSince: string;
        counters: { reads: number };
        pointCount: number;
      };
    await p.waitFor(/device connected[\s\S]*device connected/);
    const steadyBefore = await device("steady");

    writeFileSync(file, config(0, 200, "\n      - { id: q, type: bool, generator: { kind: square } }"));
    await p.waitFor(/"changed":\["press"\]/);
    expect((await device("press")).pointCount).toBe(2);
    const steadyAfter = await device("steady");
    expect(steadyAfter.stateSince).toBe(steadyBefore.stateSince); // never restarted
    expect(steadyAfter.counters.reads).toBeGreaterThan(steadyBefore.counters.reads);

    writeFileSync(file, config(0, 5)); // pollIntervalMs below the minimum of 10
    await p.waitFor(/config reload rejected[\s\S]*devices\[1\]\.pollIntervalMs: must be >= 10/);
    expect((await device("press")).pointCount).toBe(2); // running config stays

    writeFileSync(file, config(0, 300)); // valid again; also applied by SIGHUP
    p.child.kill("SIGHUP");
    await p.waitFor(/"changed":\["press"\][\s\S]*"changed":\["press"\]/);
    expect((await device("press")).pointCount).toBe(1);

    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);
    expect(p.output()).toMatch(/SIGTERM: shutting down/);
  });
});
