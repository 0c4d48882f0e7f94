/**
 * Issue 17, HTTP side: stream slots and revocation, Host/Origin checks, every error in the coded
 * shape with the right status, the rate limit for unauthenticated callers, id lengths, CORS
 * preflight methods, no-store on secrets, CSP over plain HTTP, and data file permissions.
 */
import { chmodSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { get, type IncomingMessage } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { TokenStore } from "../../src/http/auth/tokens.js";
import { ERROR_CODES } from "../../src/http/errors.js";
import { startService } from "../../src/service.js";
import { type ApiFixture, apiFixture, pressDevice } from "../helpers/service.js";
import { until } from "../helpers/until.js";

const fixtures: ApiFixture[] = [];
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  for (const f of fixtures.splice(0)) await f.close();
});

async function fixture(...args: Parameters<typeof apiFixture>): Promise<ApiFixture> {
  const f = await apiFixture(...args);
  fixtures.push(f);
  return f;
}

async function listening(f: ApiFixture): Promise<number> {
  await f.app.listen({ host: "127.0.0.1", port: 0 });
  return (f.app.server.address() as AddressInfo).port;
}

/** Waits for `check` to hold, polling; fails after `ms`. */

/** Asserts the documented error body and returns its code. */
function coded(status: number, text: string): string {
  const body = JSON.parse(text) as { error: { code: keyof typeof ERROR_CODES; message: string } };
  expect(Object.keys(body)).toEqual(["error"]);
  expect(typeof body.error.message).toBe("string");
  expect(ERROR_CODES[body.error.code]?.status).toBe(status);
  return body.error.code;
}

/** Sends raw bytes and returns the status line's code and the body. */
function rawRequest(port: number, text: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    socket.on("data", (d) => {
      answer += d.toString("latin1");
    });
    socket.on("error", reject);
    socket.on("close", () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
      resolve({ status, body: answer.slice(answer.indexOf("\r\n\r\n") + 4) });
    });
    socket.end(text);
  });
}

/** An SSE client; resolves once the answer's head arrived. */
function sse(port: number, token: string): Promise<{ res: IncomingMessage; closed: () => boolean }> {
  return new Promise((resolve, reject) => {
    const req = get(`http://127.0.0.1:${port}/api/v1/events?access_token=${token}`, (res) => {
      let closed = false;
      res.on("close", () => {
        closed = true;
      });
      res.resume();
      resolve({ res, closed: () => closed });
    });
    cleanups.push(() => req.destroy());
    req.on("error", reject);
  });
}

function ws(port: number, query: string, origin?: string): Promise<WebSocket> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/api/v1/stream${query}`, origin ? { origin } : {});
  cleanups.push(() => {
    socket.on("error", () => {}); // terminating a handshake in progress emits one
    socket.terminate();
  });
  return new Promise((resolve, reject) => {
    socket.once("open", () => resolve(socket));
    socket.once("unexpected-response", (_req, res) => reject(new Error(`status ${res.statusCode}`)));
    socket.once("error", reject);
  });
}

describe("stream slots", () => {
  it("a plain GET to the WebSocket route (426) takes no slot", async () => {
    const f = await fixture(undefined, { limits: { maxStreamClients: 1 } });
    const port = await listening(f);
    for (let i = 0; i < 3; i++) {
      const res = await f.app.inject({
        url: "/api/v1/stream",
        headers: { authorization: `Bearer ${f.tokens.viewer}` },
      });
      expect(res.statusCode).toBe(426);
    }
    const client = await sse(port, f.tokens.viewer);
    expect(client.res.statusCode).toBe(200);
    const socket = new WebSocket(`ws://127.0.0.1:${port}/api/v1/stream?access_token=${f.tokens.viewer}`);
    cleanups.push(() => {
      socket.on("error", () => {}); // terminating a handshake in progress emits one
      socket.terminate();
    });
    const status = await new Promise<number>((resolve) =>
      socket.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)),
    );
    expect(status).toBe(503); // the one slot is the SSE client's
    client.res.destroy();
    await until("the slot freed", () => client.closed());
    let opened: WebSocket | undefined;
    const end = Date.now() + 5_000;
    while (!opened && Date.now() < end)
      opened = await ws(port, `?access_token=${f.tokens.viewer}`).catch(() => undefined);
    expect(opened?.readyState).toBe(WebSocket.OPEN);
  });

  it("revoking a token closes its WebSocket and SSE streams within a second, and only its own", async () => {
    const f = await fixture();
    const port = await listening(f);
    const created = await f.app.inject({
      method: "POST",
      url: "/api/v1/tokens",
      headers: { authorization: `Bearer ${f.tokens.admin}` },
      payload: { name: "kiosk", role: "viewer" },
    });
    const kiosk = created.json().token as string;
    const socket = await ws(port, `?access_token=${kiosk}`);
    const events = await sse(port, kiosk);
    const other = await ws(port, `?access_token=${f.tokens.viewer}`);
    let wsClosed = false;
    socket.on("close", () => {
      wsClosed = true;
    });
    const revokedAt = Date.now();
    const res = await f.app.inject({
      method: "DELETE",
      url: "/api/v1/tokens/kiosk",
      headers: { authorization: `Bearer ${f.tokens.admin}` },
    });
    expect(res.statusCode).toBe(204);
    await until("the revoked token's streams closed", () => wsClosed && events.closed(), 1_000);
    expect(Date.now() - revokedAt).toBeLessThan(1_000);
    expect(other.readyState).toBe(WebSocket.OPEN);
  });

  it("no token may be named anonymous: its revocation would close the loopback viewers' streams", async () => {
    const f = await fixture();
    const res = await f.app.inject({
      method: "POST",
      url: "/api/v1/tokens",
      headers: { authorization: `Bearer ${f.tokens.admin}` },
      payload: { name: "anonymous", role: "viewer" },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("TB_ERR_BAD_REQUEST");
  });
});

describe("Host and Origin", () => {
  const anonymous = async (limits: Record<string, unknown> = {}) =>
    fixture(undefined, { auth: { tokens: TokenStore.memory(), anonymous: "loopback-viewer" }, limits });

  it("with loopback-viewer, refuses a Host that is not the gateway's (DNS rebinding)", async () => {
    const f = await anonymous({ allowedHosts: ["gw.plant.local"] });
    const at = (host: string) => f.app.inject({ url: "/api/v1/devices", headers: { host } });
    const evil = await at("evil.example:8080");
    expect(evil.statusCode).toBe(403);
    expect(coded(403, evil.body)).toBe("TB_ERR_HOST_NOT_ALLOWED");
    for (const host of ["127.0.0.1:8080", "localhost:8080", "[::1]:8080", "GW.plant.local:8080", "10.1.2.3"])
      expect((await at(host)).statusCode, host).toBe(200);
  });

  it("with loopback-viewer, refuses a foreign Origin and accepts its own and the CORS ones", async () => {
    const f = await anonymous({ cors: { origins: ["https://scada.example.com"] } });
    const at = (origin: string) =>
      f.app.inject({ url: "/api/v1/devices", headers: { host: "127.0.0.1:8080", origin } });
    const evil = await at("https://evil.example");
    expect(evil.statusCode).toBe(403);
    expect(coded(403, evil.body)).toBe("TB_ERR_ORIGIN_NOT_ALLOWED");
    expect((await at("null")).statusCode).toBe(403);
    expect((await at("http://127.0.0.1:8080")).statusCode).toBe(200);
    expect((await at("https://scada.example.com")).statusCode).toBe(200);
  });

  it("checks Origin on every WebSocket handshake, token or not", async () => {
    const f = await fixture();
    const port = await listening(f);
    await expect(ws(port, `?access_token=${f.tokens.viewer}`, "https://evil.example")).rejects.toThrow(
      /status 403/,
    );
    const own = await ws(port, `?access_token=${f.tokens.viewer}`, `http://127.0.0.1:${port}`);
    expect(own.readyState).toBe(WebSocket.OPEN);
    const bare = await ws(port, `?access_token=${f.tokens.viewer}`);
    expect(bare.readyState).toBe(WebSocket.OPEN);
  });
});

describe("errors in the documented shape", () => {
  it("answers a body over bodyLimitBytes with 413", async () => {
    const f = await fixture(undefined, { limits: { bodyLimitBytes: 2048 } });
    const res = await f.app.inject({
      method: "POST",
      url: "/api/v1/tokens",
      headers: { authorization: `Bearer ${f.tokens.admin}`, "content-type": "application/json" },
      payload: JSON.stringify({ name: "x".repeat(4096), role: "viewer" }),
    });
    expect(res.statusCode).toBe(413);
    expect(coded(413, res.body)).toBe("TB_ERR_BODY_TOO_LARGE");
  });

  it("refuses deeply nested JSON with a 400, not a 500", async () => {
    const f = await fixture();
    const depth = 100_000;
    const payload = `{"id":"deep","type":"simulator","connection":${"[".repeat(depth)}${"]".repeat(depth)},"points":[]}`;
    const res = await f.app.inject({
      method: "POST",
      url: "/api/v1/devices",
      headers: { authorization: `Bearer ${f.tokens.admin}`, "content-type": "application/json" },
      payload,
    });
    expect(res.statusCode).toBe(400);
    expect(coded(400, res.body)).toBe("TB_ERR_BAD_REQUEST");
    // brackets inside strings are not nesting
    const inString = await f.app.inject({
      method: "POST",
      url: "/api/v1/tokens",
      headers: { authorization: `Bearer ${f.tokens.admin}`, "content-type": "application/json" },
      payload: `{"name":"${"[".repeat(100)}","role":"viewer"}`,
    });
    expect(inString.statusCode).toBe(400);
    expect(inString.json().error.details[0].field).toMatch(/^body/);
  });

  it("answers a bad % encoding with a coded 400", async () => {
    const f = await fixture();
    for (const url of ["/api/v1/devices/%E0%A4%A", "/api/v1/devices/%zz/points"]) {
      const res = await f.app.inject({ url, headers: { authorization: `Bearer ${f.tokens.viewer}` } });
      expect(res.statusCode, url).toBe(400);
      expect(coded(400, res.body)).toBe("TB_ERR_BAD_REQUEST");
    }
  });

  it("answers over-long URLs with 414 and over-large headers with 431, coded", async () => {
    const f = await fixture();
    const port = await listening(f);
    for (const length of [10_000, 20_000]) {
      const res = await rawRequest(
        port,
        `GET /api/v1/devices?x=${"a".repeat(length)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`,
      );
      expect(res.status, `URL of ${length}`).toBe(414);
      expect(coded(414, res.body)).toBe("TB_ERR_URL_TOO_LONG");
    }
    const big = await rawRequest(
      port,
      `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${"b".repeat(20_000)}\r\n\r\n`,
    );
    expect(big.status).toBe(431);
    expect(coded(431, big.body)).toBe("TB_ERR_HEADERS_TOO_LARGE");
    const junk = await rawRequest(port, "GARBAGE\r\n\r\n");
    expect(junk.status).toBe(400);
    expect(coded(400, junk.body)).toBe("TB_ERR_BAD_REQUEST");
  });

  it("counts requests without a valid token, and to unknown routes, against the rate limit", async () => {
    const f = await fixture(undefined, { limits: { rateLimit: { max: 3, windowMs: 60_000 } } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push(
        (await f.app.inject({ url: "/api/v1/devices", headers: { authorization: "Bearer nope" } }))
          .statusCode,
      );
    expect(statuses).toEqual([401, 401, 401, 429]);
    const g = await fixture(undefined, { limits: { rateLimit: { max: 2, windowMs: 60_000 } } });
    const unknown: number[] = [];
    for (let i = 0; i < 3; i++) unknown.push((await g.app.inject({ url: `/no/such/${i}` })).statusCode);
    expect(unknown).toEqual([404, 404, 429]);
  });

  it("reaches ids of up to 128 characters through the API, as config allows", async () => {
    const long = `d${"x".repeat(127)}`;
    const f = await fixture([pressDevice({ id: long })]);
    const auth = { authorization: `Bearer ${f.tokens.viewer}` };
    expect((await f.app.inject({ url: `/api/v1/devices/${long}`, headers: auth })).statusCode).toBe(200);
    expect(
      (await f.app.inject({ url: `/api/v1/devices/${long}/points/temp`, headers: auth })).statusCode,
    ).toBe(200);
    const tooLong = await f.app.inject({ url: `/api/v1/devices/${long}y`, headers: auth });
    expect(tooLong.statusCode).toBe(400);
    expect(coded(400, tooLong.body)).toBe("TB_ERR_BAD_REQUEST");
  });
});

describe("browser-facing headers", () => {
  it("lets a configured CORS origin PUT and DELETE", async () => {
    const f = await fixture(undefined, { limits: { cors: { origins: ["https://scada.example.com"] } } });
    for (const method of ["PUT", "DELETE"]) {
      const res = await f.app.inject({
        method: "OPTIONS",
        url: "/api/v1/devices/press-1",
        headers: { origin: "https://scada.example.com", "access-control-request-method": method },
      });
      expect(res.statusCode).toBe(204);
      expect(String(res.headers["access-control-allow-methods"]).split(/,\s*/)).toContain(method);
    }
  });

  it("marks the answer carrying a new token secret no-store", async () => {
    const f = await fixture();
    const res = await f.app.inject({
      method: "POST",
      url: "/api/v1/tokens",
      headers: { authorization: `Bearer ${f.tokens.admin}` },
      payload: { name: "fresh", role: "viewer" },
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers["cache-control"]).toBe("no-store");
  });

  it("sends no upgrade-insecure-requests over plain HTTP, /docs included", async () => {
    const f = await fixture();
    for (const url of ["/healthz", "/docs/", "/docs/static/index.html"]) {
      const res = await f.app.inject({ url });
      const csp = String(res.headers["content-security-policy"]);
      expect(csp, url).toMatch(/default-src 'self'/);
      expect(csp, url).not.toMatch(/upgrade-insecure-requests/);
    }
  });
});

describe("data files", () => {
  it("tightens a data directory an older version left 0755", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tagbridge-perm-old-"));
    mkdirSync(join(dir, "data"), { mode: 0o755 });
    chmodSync(join(dir, "data"), 0o755);
    const file = join(dir, "gateway.yaml");
    writeFileSync(
      file,
      `version: 1\ngateway: perm-gw\ndataDir: ${dir}/data\nhttp: { port: 0 }\ndevices: []\n`,
    );
    const service = await startService(file, { logLevel: "silent" });
    try {
      expect(statSync(join(dir, "data")).mode & 0o777).toBe(0o700);
    } finally {
      await service.close();
    }
  });

  it("creates the data directories 0700 and the token, history and north buffer files 0600", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tagbridge-perm-"));
    const file = join(dir, "gateway.yaml");
    writeFileSync(
      file,
      `version: 1\ngateway: perm-gw\ndataDir: ${dir}/data\nhttp: { port: 0 }\ndevices: []\n` +
        // A north sink to a port nothing listens on: its buffer file is created all the same.
        `north:\n  - { id: uns, type: mqtt, url: "mqtt://127.0.0.1:9" }\n`,
    );
    const previous = process.umask(0o022);
    try {
      const service = await startService(file, { logLevel: "silent" });
      try {
        const mode = (path: string) => statSync(path).mode & 0o777;
        expect(mode(join(dir, "data"))).toBe(0o700);
        expect(mode(join(dir, "data", "tokens.json"))).toBe(0o600);
        expect(mode(join(dir, "data", "admin-token"))).toBe(0o600);
        expect(mode(join(dir, "data", "history.sqlite"))).toBe(0o600);
        expect(mode(join(dir, "data", "north"))).toBe(0o700);
        expect(mode(join(dir, "data", "north", "uns.sqlite"))).toBe(0o600);
      } finally {
        await service.close();
      }
    } finally {
      process.umask(previous);
    }
  });
});
