/**
 * The web console in real headless Chromium (Debian's `chromium`, driven by playwright-core) against
 * a real service started from a config file: sign in with the admin token the first start wrote,
 * watch live values change, open a trend, write a point (and see a refused write's coded error),
 * then stop a device's simulator and watch the device and its points go bad.
 *
 * Skipped, saying so, only when /usr/bin/chromium is absent (`.ci/run` installs it with apt-get).
 * The console is built from the current source into dist/console first (as `npm run build` does).
 * Screenshots go to test/console/artifacts/ (git-ignored); their paths are printed.
 */

import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { type Browser, chromium, type Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Service, startService } from "../../src/service.js";
import { ROOT } from "../helpers/cli.js";
import { type OpcuaPeer, startOpcuaPeer } from "../peers/opcua-server.js";

const CHROMIUM = "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const ARTIFACTS = join(ROOT, "test", "console", "artifacts");
if (!HAVE_CHROMIUM)
  process.stderr.write(
    `\ntest/console/console.test.ts SKIPPED: ${CHROMIUM} is not installed (apt-get install chromium); the browser tests did not run.\n\n`,
  );

let opcuaUrl = "";
const config = (ovenDown: boolean) => `
version: 1
gateway: console-gw
dataDir: ./data
http: { host: 127.0.0.1, port: 0 }
log: { level: warn }
devices:
  - id: press-1
    type: simulator
    description: Press with a live pressure and a writable setpoint
    pollIntervalMs: 200
    connection: { seed: 3 }
    points:
      - { id: pressure, type: float64, unit: bar, publish: always,
          generator: { kind: randomWalk, step: 2, min: 80, max: 180, start: 120 } }
      - { id: setpoint, type: float64, unit: bar, access: readwrite, min: 0, max: 200,
          generator: { kind: constant, value: 120 } }
  - id: oven-2
    type: simulator
    description: Oven whose simulator the test stops
    pollIntervalMs: 200
    reconnect: { minMs: 200, maxMs: 1000 }
    connection:
      seed: 5
${ovenDown ? "      outage: { everyMs: 86400000, durationMs: 86400000 }\n" : ""}    points:
      - { id: zone_temperature, type: float64, unit: °C,
          generator: { kind: sine, periodMs: 10000, amplitude: 5, offset: 180 } }
  - id: plc
    type: opcua
    description: OPC UA server whose address space the test browses
    reconnect: { minMs: 200, maxMs: 1000 }
    connection: { endpointUrl: "${opcuaUrl}", acceptServerCertificate: true }
    points:
      - { id: temp, type: float64, address: "ns=1;s=temp" }
`;

describe.skipIf(!HAVE_CHROMIUM)("web console in headless Chromium", () => {
  let dir: string;
  let service: Service;
  let browser: Browser;
  let page: Page;
  let opcua: OpcuaPeer | undefined;
  const problems: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tagbridge-console-e2e-"));
    // Build the console (into dist/console, as `npm run build` does) from the current source, so
    // the test never runs against a stale build.
    await build({ configFile: join(ROOT, "src/console/vite.config.ts"), logLevel: "warn" });
    opcua = await startOpcuaPeer([
      { name: "temp", dataType: "Double", value: 21.5 },
      { name: "speed", dataType: "Double", value: 1200, writable: true },
    ]);
    opcuaUrl = opcua.endpointUrl;
    writeFileSync(join(dir, "gateway.yaml"), config(false));
    service = await startService(join(dir, "gateway.yaml"), {}, pino({ level: "silent" }));

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // launch() gives every run a new, empty profile.
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (/Content.Security.Policy|Refused to/i.test(message.text())) problems.push(message.text());
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await service?.close();
    await opcua?.stop();
  });

  async function screenshot(name: string): Promise<void> {
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    process.stdout.write(`console screenshot: ${file}\n`);
  }

  it("refuses a wrong token and signs in with the admin token from <dataDir>/admin-token", async () => {
    const token = readFileSync(join(dir, "data", "admin-token"), "utf8").trim();
    await page.goto(`${service.url}/`);
    await page.fill("input[name=token]", "tb_wrong");
    await page.click("form.login button[type=submit]");
    await page.getByText("TB_ERR_UNAUTHORIZED").waitFor();
    await page.fill("input[name=token]", token);
    await page.click("form.login button[type=submit]");
    await expect.poll(() => page.textContent("[data-testid=whoami]")).toMatch(/admin.*admin/);
    expect(await page.evaluate('sessionStorage.getItem("tagbridge.token")')).toBe(token);
    await page.locator('nav a[data-device="press-1"][data-state="connected"]').waitFor();
    await page.locator('nav a[data-device="oven-2"][data-state="connected"]').waitFor();
  });

  it("shows live values that change, with quality, unit and timestamp", { timeout: 30_000 }, async () => {
    const row = page.locator('tr[data-point="pressure"][data-quality="good"]');
    await row.waitFor();
    await page.locator("[data-testid=link][data-link=live]").waitFor();
    const first = await row.locator("td.value").textContent();
    const firstTs = await row.locator("td.ts").textContent();
    expect(Number(first)).toBeGreaterThanOrEqual(80);
    expect(await row.locator("td.unit").textContent()).toBe("bar");
    expect(await row.locator(".q-good").textContent()).toBe("good");
    expect(firstTs).toMatch(/^\d\d:\d\d:\d\d\.\d{3}$/);
    await expect.poll(() => row.locator("td.ts").textContent(), { timeout: 10_000 }).not.toBe(firstTs);
    await expect.poll(() => row.locator("td.value").textContent(), { timeout: 10_000 }).not.toBe(first);
  });

  it("opens a trend of the point from history, with live values appended", { timeout: 30_000 }, async () => {
    await page.locator('tr[data-point="pressure"] button', { hasText: "Trend" }).click();
    const plot = page.locator('[data-trend="pressure"] [data-testid=trend-plot]');
    await plot.locator("canvas").waitFor();
    const samples = async () => Number(await plot.getAttribute("data-samples"));
    await expect.poll(samples, { timeout: 10_000 }).toBeGreaterThan(3);
    const before = await samples();
    await expect.poll(samples, { timeout: 10_000 }).toBeGreaterThan(before);
    expect(await page.locator(".trend").textContent()).toMatch(/samples from history/);
  });

  it("writes a writable point and shows the result; a refused write shows its coded error", async () => {
    const row = page.locator('tr[data-point="setpoint"]');
    await row.locator("input[name=value]").fill("150.5");
    await row.locator("button", { hasText: "Write" }).click();
    await expect
      .poll(() => row.locator(".write-result [data-outcome]").textContent())
      .toMatch(/^✓ wrote 150\.5 at \d\d:\d\d/);
    await expect.poll(() => row.locator("td.value").textContent(), { timeout: 10_000 }).toBe("150.5");
    await row.locator("input[name=value]").fill("999");
    await row.locator("button", { hasText: "Write" }).click();
    await expect
      .poll(() => row.locator('.write-result [data-outcome="error"]').textContent())
      .toMatch(/TB_ERR_INVALID_VALUE/);
    await screenshot("press-1-live-trend-write");
    const audit = (await (
      await fetch(`${service.url}/api/v1/audit?device=press-1`, {
        headers: {
          authorization: `Bearer ${readFileSync(join(dir, "data", "admin-token"), "utf8").trim()}`,
        },
      })
    ).json()) as { outcome: string; newValue: unknown }[];
    expect(audit.map((a) => [a.outcome, a.newValue])).toEqual([
      ["refused", 999],
      ["ok", 150.5],
    ]);
  });

  it("shows a device go bad when its simulator stops", { timeout: 40_000 }, async () => {
    await page.locator('nav a[data-device="oven-2"]').click();
    const row = page.locator('tr[data-point="zone_temperature"]');
    await page.locator('tr[data-point="zone_temperature"][data-quality="good"]').waitFor();
    writeFileSync(join(dir, "gateway.yaml"), config(true));
    expect(await service.reload()).toBe(true);
    await page.locator('nav a[data-device="oven-2"][data-state="disconnected"]').waitFor({ timeout: 15_000 });
    await page.locator('[data-testid=device-state][data-state="disconnected"]').waitFor();
    await expect.poll(() => row.getAttribute("data-quality"), { timeout: 15_000 }).toBe("bad");
    expect(await row.locator(".status").textContent()).toBe("Disconnected");
    expect(await page.locator('nav a[data-device="press-1"]').getAttribute("data-state")).toBe("connected");
    // Its poll ticks are not taken while it is down: the list's "not taken / dropped" figure is marked,
    // and the device view counts them as skipped polls.
    const losses = page.locator('nav a[data-device="oven-2"] [data-testid=losses]');
    await expect
      .poll(async () => Number(await losses.getAttribute("data-not-taken")), { timeout: 10_000 })
      .toBeGreaterThan(0);
    expect(await losses.getAttribute("class")).toContain("losses-some");
    expect(await losses.textContent()).toMatch(/^⚠ [1-9]\d* not taken \/ \d+ dropped$/);
    expect(await losses.getAttribute("title")).toMatch(/skipped while not connected/);
    const skipped = page.locator('.counters dd[data-counter="skippedPolls"]');
    await expect
      .poll(async () => Number(await skipped.textContent()), { timeout: 10_000 })
      .toBeGreaterThan(0);
    expect(await skipped.getAttribute("class")).toBe("loss");
    expect(await page.locator('nav a[data-device="press-1"] [data-testid=losses]').textContent()).toMatch(
      /^(⚠ )?\d+ not taken \/ \d+ dropped$/,
    );
    await screenshot("oven-2-disconnected");
  });

  it("shows north sinks with their buffer depth and drops (GET /api/v1/north answered by the test)", async () => {
    const sinks = [
      {
        id: "uns",
        type: "mqtt",
        connected: false,
        published: 1200,
        buffered: 345,
        dropped: 7,
        oldestBufferedAgeMs: 65_000,
        lastError: "connect ECONNREFUSED 127.0.0.1:1883",
      },
    ];
    await page.route("**/api/v1/north", (route) =>
      route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(sinks) }),
    );
    await page.reload();
    const card = page.locator('[data-testid=north] [data-sink="uns"]');
    await card.waitFor();
    const text = (await card.textContent()) ?? "";
    for (const expected of ["buffered", "345", "dropped", "7", "oldest buffered", "1 min", "ECONNREFUSED"])
      expect(text).toContain(expected);
    expect(await card.getAttribute("data-connected")).toBe("false");
    await page.unroute("**/api/v1/north");
  });

  it("browses an OPC UA device and adds a selected variable as a point", { timeout: 40_000 }, async () => {
    await page.locator('nav a[data-device="plc"][data-state="connected"]').waitFor({ timeout: 20_000 });
    await page.locator('nav a[data-device="plc"]').click();
    await page.locator('[data-tab="browse"]').click();
    await page.locator('button[aria-label="expand Test"]').click();
    await page.locator('input[aria-label="add speed"]').check();
    expect(await page.inputValue("[data-testid=browse-yaml]")).toContain('address: "ns=1;s=speed"');
    await page.locator("[data-testid=browse-add]").click();
    await expect.poll(() => page.textContent("[data-testid=browse-result]")).toMatch(/✓ added speed/);
    await expect.poll(() => service.gateway.points("plc")?.map((p) => p.id)).toEqual(["temp", "speed"]);
    expect(readFileSync(join(dir, "gateway.yaml"), "utf8")).toMatch(/id: speed[\s\S]*address: ns=1;s=speed/);
    await expect
      .poll(() => service.gateway.points("plc")?.find((p) => p.id === "speed")?.latest?.value, {
        timeout: 10_000,
      })
      .toBe(1200);
    await screenshot("plc-browse-add");
  });

  it("ran without script errors or Content-Security-Policy violations", () => {
    expect(problems).toEqual([]);
  });
});
