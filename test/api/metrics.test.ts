/**
 * `/metrics` scrapes cleanly and carries what an operator needs: device state and counters, poll
 * latency, bad samples by status, bus queues and drops, process memory and event-loop lag.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiFixture, apiFixture, pressDevice } from "../helpers/service.js";

let f: ApiFixture;
beforeAll(async () => {
  f = await apiFixture([
    pressDevice({
      points: [
        { id: "temp", type: "float64", generator: { kind: "sine" } },
        { id: "broken", type: "float64", generator: { kind: "fault", status: "SensorFault" } },
      ] as never,
    }),
  ]);
  for (let i = 0; i < 100 && (f.gateway.device("press-1")?.counters.reads ?? 0) < 3; i++)
    await new Promise((r) => setTimeout(r, 20));
});
afterAll(() => f.close());

describe("/metrics", () => {
  it("serves Prometheus text with the gateway's and the process's metrics", async () => {
    const probe = f.gateway.bus.subscribe({ name: "probe", handle: () => {} });
    const res = await f.app.inject({
      url: "/metrics",
      headers: { authorization: `Bearer ${f.tokens.viewer}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain/);
    const text = res.body;
    for (const line of [
      /^tagbridge_device_connected\{device="press-1",adapter="simulator"\} 1$/m,
      /^tagbridge_device_reads\{device="press-1",adapter="simulator"\} [1-9]\d*$/m,
      /^tagbridge_device_read_seconds_count\{adapter="simulator",device="press-1"\} [1-9]\d*$/m,
      /^tagbridge_device_bad_samples_by_status_total\{adapter="simulator",device="press-1",status="SensorFault"\} [1-9]\d*$/m,
      /^tagbridge_bus_queued\{consumer="probe"\} \d+$/m,
      /^tagbridge_bus_dropped\{consumer="probe"\} 0$/m,
      /^process_resident_memory_bytes \d+/m,
      /^nodejs_eventloop_lag_seconds \d/m,
    ])
      expect(text).toMatch(line);
    // every sample line parses: name{labels} value
    for (const l of text.split("\n").filter((x) => x && !x.startsWith("#")))
      expect(l).toMatch(/^[a-zA-Z_:][\w:]*(\{[^}]*\})? [-+\d.eE]+|NaN|[+-]Inf$/);
    probe.close();
  });

  it("needs a token", async () => {
    expect((await f.app.inject("/metrics")).statusCode).toBe(401);
  });
});
