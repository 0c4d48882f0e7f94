/**
 * Writes through the API to a real (simulated) device, and the audit log of every attempt.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiFixture, apiFixture, pressDevice } from "../helpers/service.js";
import { until } from "../helpers/until.js";

let f: ApiFixture;

beforeAll(async () => {
  // `offline` is in a permanent outage: it never connects.
  f = await apiFixture([
    pressDevice(),
    pressDevice({ id: "offline", connection: { outage: { everyMs: 3_600_000, durationMs: 3_600_000 } } }),
    pressDevice({
      id: "wide",
      points: [
        { id: "i64", type: "int64", access: "readwrite", generator: { kind: "constant", value: 0 } },
        { id: "u64", type: "uint64", access: "readwrite", generator: { kind: "constant", value: 0 } },
      ] as never,
    }),
  ]);
  for (const id of ["press-1", "wide"])
    await until(`${id} connected`, () => (f.gateway.device(id)?.counters.reads ?? 0) > 0 || undefined);
});
afterAll(() => f.close());

const put = (device: string, point: string, value: unknown, token: string, key?: string) =>
  f.app.inject({
    method: "PUT",
    url: `/api/v1/devices/${device}/points/${point}/value`,
    headers: { authorization: `Bearer ${token}`, ...(key ? { "idempotency-key": key } : {}) },
    payload: { value },
  });

describe("PUT /api/v1/devices/:device/points/:point/value", () => {
  it("writes a writable point once the device confirms, and the new value is read back", async () => {
    const res = await put("press-1", "setpoint", 150, f.tokens.operator);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ device: "press-1", point: "setpoint", value: 150 });
    await until("setpoint 150", () =>
      f.gateway.bus.latest({ devices: ["press-1"], points: ["setpoint"] })[0]?.value === 150
        ? true
        : undefined,
    );
    const [entry] = await f.audit.read(1);
    expect(entry).toMatchObject({
      token: "olga",
      device: "press-1",
      point: "setpoint",
      oldValue: 120,
      newValue: 150,
      outcome: "ok",
    });
  });

  it("undoes scaling: 15.5 in engineering units is raw 155 in an int16 register", async () => {
    expect((await put("press-1", "raw", 15.5, f.tokens.operator)).statusCode).toBe(200);
    await until("raw 15.5", () => {
      const v = f.gateway.bus.latest({ devices: ["press-1"], points: ["raw"] })[0]?.value;
      return typeof v === "number" && Math.abs(v - 15.5) < 1e-9 ? true : undefined;
    });
  });

  it("a scaled point answers with the value written after rounding; the request is kept beside it", async () => {
    // scale 0.1 on int16: 12.34 writes raw 123, which is 12.3
    const res = await put("press-1", "raw", 12.34, f.tokens.operator);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ device: "press-1", point: "raw", value: 12.3, requested: 12.34 });
    expect((await f.audit.read(1))[0]).toMatchObject({
      point: "raw",
      newValue: 12.34,
      written: 12.3,
      outcome: "ok",
    });
    await until("raw reads 12.3", () =>
      f.gateway.bus.latest({ devices: ["press-1"], points: ["raw"] })[0]?.value === 12.3 ? true : undefined,
    );
    // A value that needs no rounding answers without `requested`.
    expect((await put("press-1", "raw", 15.5, f.tokens.operator)).json()).not.toHaveProperty("requested");
  });

  it("null is 422 and audited, never handed to the adapter", async () => {
    for (const point of ["setpoint", "raw"]) {
      const res = await put("press-1", point, null, f.tokens.operator);
      expect(res.statusCode, res.body).toBe(422);
      expect(res.json().error).toMatchObject({
        code: "TB_ERR_INVALID_VALUE",
        details: [{ message: "value must not be null" }],
      });
      expect((await f.audit.read(1))[0]).toMatchObject({
        point,
        outcome: "refused",
        code: "TB_ERR_INVALID_VALUE",
      });
    }
  });

  it("writes int64 and uint64, beyond 2^53 as decimal strings, and reads them back", async () => {
    const cases: [string, unknown, unknown][] = [
      ["i64", "-9223372036854775808", "-9223372036854775808"],
      ["u64", "18446744073709551615", "18446744073709551615"],
      ["i64", 42, 42],
    ];
    for (const [point, value, reading] of cases) {
      const res = await put("wide", point, value, f.tokens.operator);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().value).toEqual(reading);
      await until(`${point} reads ${reading}`, () =>
        f.gateway.bus.latest({ devices: ["wide"], points: [point] })[0]?.value === reading ? true : undefined,
      );
    }
    const over = await put("wide", "u64", "18446744073709551616", f.tokens.operator);
    expect(over.statusCode).toBe(422);
  });

  it("refuses read-only points (409), bad types and out-of-range values (422), all audited", async () => {
    const ro = await put("press-1", "temp", 1, f.tokens.operator);
    expect(ro.statusCode).toBe(409);
    expect(ro.json().error.code).toBe("TB_ERR_POINT_NOT_WRITABLE");
    const high = await put("press-1", "setpoint", 250, f.tokens.operator);
    expect(high.statusCode).toBe(422);
    expect(high.json().error).toMatchObject({
      code: "TB_ERR_INVALID_VALUE",
      details: [{ message: "value 250 is above max 200" }],
    });
    const wrongType = await put("press-1", "setpoint", "hot", f.tokens.operator);
    expect(wrongType.statusCode).toBe(422);
    const entries = await f.audit.read(3);
    expect(entries.map((e) => [e.point, e.outcome, e.code])).toEqual([
      ["setpoint", "refused", "TB_ERR_INVALID_VALUE"],
      ["setpoint", "refused", "TB_ERR_INVALID_VALUE"],
      ["temp", "refused", "TB_ERR_POINT_NOT_WRITABLE"],
    ]);
  });

  it("answers 503 at once for a device that is not connected, and queues nothing", async () => {
    const started = Date.now();
    const res = await put("offline", "setpoint", 10, f.tokens.operator);
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe("TB_ERR_DEVICE_NOT_CONNECTED");
    expect(Date.now() - started).toBeLessThan(2000);
    expect((await f.audit.read(1))[0]).toMatchObject({
      device: "offline",
      outcome: "refused",
      code: "TB_ERR_DEVICE_NOT_CONNECTED",
    });
  });

  it("an idempotency key replays the first answer without writing again; reused with another body it is a 409", async () => {
    const before = (await f.audit.read(10_000)).length;
    const first = await put("press-1", "setpoint", 99, f.tokens.operator, "k-1");
    const again = await put("press-1", "setpoint", 99, f.tokens.operator, "k-1");
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());
    expect((await f.audit.read(10_000)).length).toBe(before + 1);
    const other = await put("press-1", "setpoint", 98, f.tokens.operator, "k-1");
    expect(other.statusCode).toBe(409);
    expect(other.json().error.code).toBe("TB_ERR_IDEMPOTENCY_CONFLICT");
  });

  // Issue 17, item 7: keys were shared across tokens, stored only after the device answered, and
  // neither a 409 nor a 403 attempt left an entry.
  it("idempotency keys are the token's own: another token's same key is a write of its own", async () => {
    const before = (await f.audit.read(10_000)).length;
    const a = await put("press-1", "setpoint", 97, f.tokens.operator, "shared-key");
    const b = await put("press-1", "setpoint", 97, f.tokens.admin, "shared-key");
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    const entries = await f.audit.read(2);
    expect(entries.map((e) => e.token).sort()).toEqual(["ada", "olga"]);
    expect((await f.audit.read(10_000)).length).toBe(before + 2);
  });

  it("concurrent duplicates with one key write once and get the same answer", async () => {
    const before = (await f.audit.read(10_000)).length;
    const answers = await Promise.all(
      [1, 2, 3].map(() => put("press-1", "setpoint", 96, f.tokens.operator, "dup")),
    );
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(new Set(answers.map((r) => r.body)).size).toBe(1);
    expect((await f.audit.read(10_000)).length).toBe(before + 1);
  });

  it("a 409 idempotency conflict and a 403 write attempt are on the audit log", async () => {
    await put("press-1", "setpoint", 95, f.tokens.operator, "k-audit");
    const conflict = await put("press-1", "setpoint", 94, f.tokens.operator, "k-audit");
    expect(conflict.statusCode).toBe(409);
    expect((await f.audit.read(1))[0]).toMatchObject({
      token: "olga",
      newValue: 94,
      outcome: "refused",
      code: "TB_ERR_IDEMPOTENCY_CONFLICT",
    });
    const forbidden = await put("press-1", "setpoint", 93, f.tokens.viewer);
    expect(forbidden.statusCode).toBe(403);
    expect((await f.audit.read(1))[0]).toMatchObject({
      token: "vic",
      device: "press-1",
      point: "setpoint",
      outcome: "refused",
      code: "TB_ERR_FORBIDDEN",
    });
  });

  it("404s unknown devices and points", async () => {
    expect((await put("nope", "x", 1, f.tokens.operator)).json().error.code).toBe("TB_ERR_DEVICE_NOT_FOUND");
    expect((await put("press-1", "nope", 1, f.tokens.operator)).json().error.code).toBe(
      "TB_ERR_POINT_NOT_FOUND",
    );
  });
});

describe("GET /api/v1/audit", () => {
  it("lists entries newest first for admins, filtered by device", async () => {
    const res = await f.app.inject({
      url: "/api/v1/audit?limit=2&device=press-1",
      headers: { authorization: `Bearer ${f.tokens.admin}` },
    });
    expect(res.statusCode).toBe(200);
    const entries = res.json() as { device: string; at: string }[];
    expect(entries).toHaveLength(2);
    expect(entries.every((e) => e.device === "press-1")).toBe(true);
    expect(entries[0]!.at >= entries[1]!.at).toBe(true);
  });
});
