/**
 * The http-webhook sink against a real HTTP server on loopback: the tagbridge sink conformance
 * kit, then what a request looks like, how readings are split, and what check() refuses.
 */
import type { Reading } from "tagbridge/sdk";
import { createSinkTestContext, sinkConformance } from "tagbridge/sdk/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkSettings } from "../src/config.js";
import httpWebhookSink from "../src/index.js";
import { chunks } from "../src/sink.js";
import { startWebhookPeer, type WebhookPeer } from "./webhook-peer.js";

let peer: WebhookPeer;
beforeAll(async () => {
  peer = await startWebhookPeer();
});
afterAll(() => peer.stop());

const settings = () => ({
  url: `${peer.url}/hooks/tagbridge`,
  requestTimeoutMs: 1_000,
  probe: { minMs: 20, maxMs: 200 },
});

const reading = (seq: number, value: Reading["value"] = seq): Reading => ({
  gateway: "gw",
  device: `dev-${seq % 2}`,
  point: "temperature",
  value,
  type: "float64",
  quality: "good",
  ts: "2025-01-01T00:00:00.000Z",
  receivedAt: "2025-01-01T00:00:00.000Z",
  protocol: "simulator",
  seq,
});

describe("http-webhook: conformance (real HTTP server)", () => {
  const checks = sinkConformance(httpWebhookSink, {
    get settings() {
      return settings();
    },
    received: async () => peer.received,
    stopPeer: () => peer.stop(),
    startPeer: () => peer.start(),
    contacts: () => peer.connections,
    timeoutMs: 3_000,
    connectTimeoutMs: 3_000,
    stopTimeoutMs: 3_000,
    settleMs: 200,
  });
  for (const check of checks) it(check.name, check.run);
});

describe("http-webhook: requests", () => {
  it("POSTs a JSON array with the configured headers and its own, flagging replayed readings", async () => {
    const tc = createSinkTestContext(httpWebhookSink, {
      ...settings(),
      url: `${peer.url}/hooks/tagbridge?token=s3cret`,
      headers: { authorization: "Bearer abc", "x-plant": "north" },
    });
    const sink = httpWebhookSink.create(tc.ctx);
    await sink.start();
    try {
      await tc.waitForState("connected");
      const before = peer.requests.length;
      await sink.publish([reading(1), reading(2, null)], { historical: true });
      const posts = peer.requests.slice(before).filter((r) => r.method === "POST");
      expect(posts).toHaveLength(1);
      expect(posts[0]!.headers).toMatchObject({
        "content-type": "application/json",
        authorization: "Bearer abc",
        "x-plant": "north",
        "tagbridge-historical": "true",
        "tagbridge-count": "2",
        "tagbridge-gateway": "test-gateway",
        "tagbridge-sink": "test-sink",
      });
      expect(JSON.parse(posts[0]!.body)).toEqual([reading(1), reading(2, null)]);

      const batches = [{ key: "dev-1", count: 1, payload: Buffer.from(JSON.stringify([reading(3)])) }];
      await sink.batching!.publish(batches, { historical: false });
      const last = peer.requests.at(-1)!;
      expect(last.headers).toMatchObject({ "tagbridge-historical": "false", "tagbridge-device": "dev-1" });
      expect(sink.batching!.released!()).toBe(true);

      peer.mode = { kind: "status", status: 503, body: "maintenance" };
      const error = await sink.publish([reading(4)], { historical: false }).catch((e: Error) => e);
      expect(String(error)).toMatch(
        /POST http:\/\/127\.0\.0\.1:\d+\/hooks\/tagbridge: HTTP 503: maintenance/,
      );
      expect(String(error)).not.toContain("s3cret"); // the query may hold a secret
    } finally {
      peer.mode = { kind: "ok" };
      await sink.stop();
    }
  });

  it("takes its batch policy from the settings, JSON arrays of Readings by default", () => {
    const create = (s: object) => httpWebhookSink.create(createSinkTestContext(httpWebhookSink, s).ctx);
    expect(create({ url: "http://h" }).batching!.policy).toEqual({
      by: "gateway",
      maxReadings: 500,
      maxBytes: 262_144,
      lingerMs: 200,
      encoding: "readings",
    });
    const mine = { by: "device", maxReadings: 10, maxBytes: 4096, lingerMs: 0 } as const;
    expect(create({ url: "http://h", batch: mine }).batching!.policy).toEqual({
      ...mine,
      encoding: "readings",
    });
  });

  it("splits a publish() into bodies within maxReadings and maxBytes, a large reading alone", () => {
    const readings = Array.from({ length: 7 }, (_, i) => reading(i));
    const bySize = (n: number, bytes: number) =>
      chunks(readings, n, bytes).map((c) => (JSON.parse(c.body.toString()) as Reading[]).map((r) => r.seq));
    expect(bySize(3, 1e6)).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    const one = Buffer.byteLength(JSON.stringify(readings[0]));
    expect(bySize(100, 2 + one * 2 + 1)).toEqual([[0, 1], [2, 3], [4, 5], [6]]);
    for (const c of chunks(readings, 100, 2 + one * 2 + 1))
      expect(c.body.length).toBeLessThanOrEqual(2 + one * 2 + 1);
    const big = reading(9, "x".repeat(5_000));
    expect(chunks([reading(8), big, reading(10)], 100, 1_024).map((c) => c.count)).toEqual([1, 1, 1]);
    expect(chunks([], 10, 1_024)).toEqual([]);
  });
});

describe("http-webhook: check()", () => {
  it("refuses what HTTP or the sink cannot take, with paths", () => {
    expect(checkSettings({ url: "https://h/x", headers: { authorization: "Bearer t" } })).toEqual([]);
    expect(
      checkSettings({
        url: "http://[bad",
        headers: { "bad name": "v", "Content-Length": "1", "tagbridge-historical": "x", ok: "a\r\nb" },
        probe: { minMs: 5_000, maxMs: 1_000 },
      }),
    ).toEqual([
      { path: ["url"], message: "is not a valid URL" },
      { path: ["headers", "bad name"], message: "is not a valid header name" },
      { path: ["headers", "Content-Length"], message: "is set by the sink itself" },
      { path: ["headers", "tagbridge-historical"], message: "is set by the sink itself" },
      { path: ["headers", "ok"], message: "contains a line break or NUL" },
      { path: ["probe", "minMs"], message: "is above probe.maxMs (1000)" },
    ]);
  });
});
