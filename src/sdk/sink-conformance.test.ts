/**
 * The sink conformance kit against a real peer (JSON lines over TCP): a correct reference sink
 * passes every check, and each deliberately broken variant of it fails the check that names the
 * breakage. The last test holds the kit to that: every check of the kit is failed by some variant.
 */
import { setTimeout as sleep } from "node:timers/promises";
import Type, { type Static } from "typebox";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type LinePeer, LineSettings, lineSink, startLinePeer } from "../../test/helpers/line-sink.js";
import type { Reading, Sink, SinkContext, SinkDefinition, SinkState } from "./index.js";
import { type SinkConformanceFixture, sinkConformance } from "./kit.js";
import { deliveryProblems, kitReadings } from "./sink-conformance-rules.js";

let peer: LinePeer;
beforeAll(async () => {
  peer = await startLinePeer();
});
afterAll(() => peer.stop());

const fixture: SinkConformanceFixture = {
  get settings() {
    return { host: "127.0.0.1", port: peer.port };
  },
  received: async () => peer.received,
  stopPeer: () => peer.stop(),
  startPeer: () => peer.start(),
  contacts: () => peer.contacts,
  timeoutMs: 1_500,
  connectTimeoutMs: 1_500,
  stopTimeoutMs: 1_000,
  settleMs: 200,
};

describe("sink kit: the reference sink passes", () => {
  for (const check of sinkConformance(lineSink, fixture)) it(check.name, check.run);
});

type Ctx = SinkContext<Static<typeof LineSettings>>;
/** Inner sinks of broken variants, stopped after each test (a variant may not stop its own). */
const inners = new Set<Sink>();
afterEach(async () => {
  await Promise.all([...inners].map((s) => s.stop().catch(() => undefined)));
  inners.clear();
});

/** The reference sink with definition fields replaced, and its instances patched. */
function variant(
  fields: Partial<SinkDefinition<typeof LineSettings>>,
  patch: (inner: Sink, ctx: Ctx) => Partial<Sink> = () => ({}),
  wrapCtx: (ctx: Ctx) => Ctx = (ctx) => ctx,
): SinkDefinition<typeof LineSettings> {
  return {
    ...lineSink,
    ...fields,
    create(ctx) {
      const own = wrapCtx(ctx);
      const inner = lineSink.create(own);
      inners.add(inner);
      return { ...inner, ...patch(inner, own) };
    },
  } as SinkDefinition<typeof LineSettings>;
}

/** A context whose setState calls pass through `filter` first. */
const filtered =
  (filter: (state: SinkState) => boolean) =>
  (ctx: Ctx): Ctx => ({ ...ctx, setState: (s, r) => (filter(s) ? ctx.setState(s, r) : undefined) });

const undocumented = Type.Object({ ...LineSettings.properties, extra: Type.Optional(Type.String()) });
const clashing = Type.Object({
  ...LineSettings.properties,
  publishTimeoutMs: Type.Optional(Type.Integer({ description: "mine" })),
});

/** [what is broken, the variant, the check it must fail, what the failure says]. */
const BROKEN: [string, SinkDefinition<typeof LineSettings>, string, RegExp][] = [
  ["a type name in capitals", variant({ type: "Line_Sink" }), "definition", /type "Line_Sink" must match/],
  ["an sdk range for SDK 2", variant({ sdk: "^2.0.0" }), "definition", /excludes this SDK/],
  [
    "an unknown capability",
    variant({ capabilities: ["ack", "stream" as "ack"] }),
    "definition",
    /unknown capability "stream"/,
  ],
  [
    "capabilitiesFor that is not a function",
    variant({ capabilitiesFor: 1 as never }),
    "definition",
    /capabilitiesFor is not a function/,
  ],
  [
    "capabilitiesFor() giving a capability capabilities does not list",
    variant({ capabilities: ["ack", "batch"], capabilitiesFor: () => ["ack", "replay", "batch"] }),
    "settings: the fixture's",
    /capabilitiesFor\(\) gives "replay", which capabilities does not list/,
  ],
  [
    "a settings field named like a core field",
    variant({ settingsSchema: clashing as typeof LineSettings }),
    "definition",
    /core sink fields: publishTimeoutMs/,
  ],
  [
    "a settings field without a description",
    variant({ settingsSchema: undocumented as typeof LineSettings }),
    "settings: every field",
    /settings.extra has no description/,
  ],
  [
    "check() that throws",
    variant({
      check: () => {
        throw new Error("boom");
      },
    }),
    "settings: the fixture's",
    /boom/,
  ],
  [
    "check() that refuses the settings",
    variant({ check: () => [{ path: ["port"], message: "no" }] }),
    "settings: the fixture's",
    /check\(\): port: no/,
  ],
  [
    "batch declared, no batching",
    variant({}, () => ({ batching: undefined })),
    "shape",
    /batch is declared but the sink has no batching/,
  ],
  [
    "batching without the capability",
    variant({ capabilities: ["ack", "replay"] }),
    "shape",
    /batching but capability batch is not declared/,
  ],
  [
    "a batching policy without limits",
    variant({}, (i) => ({ batching: { ...i.batching!, policy: { ...i.batching!.policy, maxReadings: 0 } } })),
    "shape",
    /maxReadings must be an integer/,
  ],
  [
    "create() reports a state",
    variant({}, (_, ctx) => {
      ctx.setState("disconnected");
      return {};
    }),
    "create() does no I/O",
    /state set to disconnected by create/,
  ],
  [
    "create() connects, states hidden",
    variant(
      {},
      (inner) => {
        void inner.start();
        return {};
      },
      filtered(() => false),
    ),
    "create() does no I/O",
    /contact\(s\) after create/,
  ],
  [
    "stop() before start() rejects",
    variant({}, (inner) => {
      let started = false;
      return {
        start: () => {
          started = true;
          return inner.start();
        },
        stop: () => (started ? inner.stop() : Promise.reject(new Error("not started"))),
      };
    }),
    "stop() before start()",
    /not started/,
  ],
  [
    "start() waits for the peer",
    variant({}, (inner, ctx) => ({
      start: async () => {
        await inner.start();
        await until(ctx, "connected");
      },
    })),
    "start() resolves while the peer is down",
    /start\(\) with the peer down did not settle/,
  ],
  [
    "disconnected never reported",
    variant(
      {},
      undefined,
      filtered((s) => s !== "disconnected"),
    ),
    "start() resolves while the peer is down",
    /did not report disconnected/,
  ],
  [
    "connected reported at start",
    variant({}, (inner, ctx) => ({
      start: () => {
        ctx.setState("connected");
        return inner.start();
      },
    })),
    "start() resolves while the peer is down",
    /reported connected while the peer was down/,
  ],
  [
    "connected never reported again",
    variant({}, undefined, (ctx) => {
      let down = false;
      return {
        ...ctx,
        setState: (s, r) => {
          if (s === "disconnected") down = true;
          if (!(down && s === "connected")) ctx.setState(s, r);
        },
      };
    }),
    "start() resolves while the peer is down",
    /did not report connected/,
  ],
  [
    "publish() that resolves without delivering",
    variant({}, () => ({ publish: async () => undefined })),
    "publish while connected",
    /never arrived/,
  ],
  [
    "publish() reversing the order",
    variant({}, (i) => ({ publish: (r, o) => i.publish([...r].reverse(), o) })),
    "publish while connected",
    /arrived after seq/,
  ],
  [
    "publish() losing values",
    variant({}, (i) => ({
      publish: (r, o) =>
        i.publish(
          r.map((x) => ({ ...x, value: null })),
          o,
        ),
    })),
    "publish while connected",
    /arrived as null/,
  ],
  [
    "live readings marked historical",
    variant({}, (i) => ({ publish: (r) => i.publish(r, { historical: true }) })),
    "publish while connected",
    /arrived marked historical/,
  ],
  [
    "a second stop() rejects",
    variant({}, (i) => {
      let n = 0;
      return { stop: () => (n++ > 0 ? Promise.reject(new Error("already stopped")) : i.stop()) };
    }),
    "stop() is idempotent",
    /already stopped/,
  ],
  [
    "stop() waiting for the peer",
    variant({}, (i, ctx) => ({
      stop: async () => {
        await until(ctx, "connected");
        await i.stop();
      },
    })),
    "stop() resolves within the bound while the peer is down",
    /stop\(\) with the peer down did not settle within 1000 ms/,
  ],
  [
    "stop() not waiting for what it sends",
    variant({}, (i) => ({
      publish: async (r, o) => {
        await sleep(30);
        await i.publish(r, o);
      },
      stop: async () => void sleep(100).then(() => i.stop()),
    })),
    "nothing arrives after stop()",
    /arrived after stop\(\) resolved/,
  ],
  [
    "publish() still delivering after stop()",
    variant({}, () => ({ stop: () => sleep(50) })),
    "nothing arrives after stop()",
    /a publish\(\) after stop\(\) delivered/,
  ],
  [
    "publish() swallowing errors",
    variant({}, (i) => ({ publish: (r, o) => i.publish(r, o).catch(() => undefined) })),
    "ack:",
    /publish\(\) resolved while the peer was stopped/,
  ],
  [
    "batching.publish() swallowing errors",
    variant({}, (i) => ({
      batching: { ...i.batching!, publish: (b, o) => i.batching!.publish(b, o).catch(() => undefined) },
    })),
    "ack:",
    /batching.publish\(\) resolved while the peer was stopped/,
  ],
  [
    "the historical flag ignored",
    variant({}, (i) => ({ publish: (r) => i.publish(r, { historical: false }) })),
    "replay:",
    /not marked historical/,
  ],
  [
    "historical batches not marked",
    variant({}, (i) => ({
      batching: { ...i.batching!, publish: (b) => i.batching!.publish(b, { historical: false }) },
    })),
    "replay:",
    /not marked historical/,
  ],
  [
    "batches published in reverse",
    variant({}, (i) => ({
      batching: { ...i.batching!, publish: (b, o) => i.batching!.publish([...b].reverse(), o) },
    })),
    "batch:",
    /arrived after seq/,
  ],
  [
    "batching.publish() delivering nothing",
    variant({}, (i) => ({ batching: { ...i.batching!, publish: async () => undefined } })),
    "batch:",
    /never arrived/,
  ],
];

/** Resolves once `ctx` reports `state` (through a context the test wraps). */
function until(ctx: Ctx, state: SinkState): Promise<void> {
  return new Promise((resolve) => {
    const report = ctx.setState.bind(ctx);
    (ctx as { setState: Ctx["setState"] }).setState = (s, r) => {
      report(s, r);
      if (s === state) resolve();
    };
  });
}

describe("sink kit: ordering", () => {
  const [a, b, c] = kitReadings("order", 1, 3, 1).map((r, i) => ({ ...r, point: i < 2 ? "p" : "q" }));
  const arrivals = (...rs: Reading[]) => rs.map((reading) => ({ reading, historical: false }));
  const problems = (ordering: "device" | "point", ...rs: Reading[]) =>
    deliveryProblems([a!, b!, c!], arrivals(...rs), { historical: false, checkMarks: false, ordering });

  it("device: a later seq of another point first fails; point: only a point's own order counts", () => {
    expect(problems("device", c!, a!, b!)).toEqual(["device order-d0: seq 1 arrived after seq 3"]);
    expect(problems("point", c!, a!, b!)).toEqual([]);
    expect(problems("point", b!, a!, c!)).toEqual(["point order-d0/p: seq 1 arrived after seq 2"]);
  });
});

describe("sink kit: capabilities from the settings (capabilitiesFor)", () => {
  it("runs the checks of the instance's capabilities, and its shape against those", async () => {
    const settingsSeen: unknown[] = [];
    const narrowed = variant(
      {
        capabilitiesFor: (settings) => {
          settingsSeen.push(settings);
          return ["replay"];
        },
      },
      () => ({ batching: undefined }),
    );
    const checks = sinkConformance(narrowed, fixture);
    expect(settingsSeen).toEqual([{ host: "127.0.0.1", port: peer.port }]);
    const names = checks.map((c) => c.name);
    expect(names.filter((n) => /^(ack|batch|replay):/.test(n)).map((n) => n.split(":")[0])).toEqual([
      "replay",
    ]);
    await checks.find((c) => c.name.startsWith("shape"))!.run();
    await checks.find((c) => c.name.startsWith("settings: the fixture's"))!.run();
  });
});

describe("sink kit: each broken sink fails its check", () => {
  for (const [what, definition, check, message] of BROKEN) {
    it(`${what}: fails "${check}"`, async () => {
      const found = sinkConformance(definition, fixture).find((c) => c.name.startsWith(check));
      expect(found, `no check named ${check}…`).toBeDefined();
      await expect(found!.run()).rejects.toThrow(message);
    });
  }

  it("every check of the kit is failed by some broken sink", () => {
    const names = sinkConformance(lineSink, fixture).map((c) => c.name);
    const failed = names.filter((n) => BROKEN.some(([, , check]) => n.startsWith(check)));
    expect(failed).toEqual(names);
  });
});
