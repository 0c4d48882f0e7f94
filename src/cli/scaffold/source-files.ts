/** Templates of the generated adapter's sources: definition, schemas, client seam, adapter. */
import type { ScaffoldNames } from "./names.js";

/** `src/index.ts`: the definition, default-exported, as the gateway's loader expects. */
export function indexTs(n: ScaffoldNames): string {
  return `/**
 * The ${n.type} adapter definition. The gateway imports this package by name (config \`adapters:\`)
 * and takes its default export.
 */
import { defineAdapter } from "tagbridge/sdk";
import { create${n.pascal} } from "./adapter.js";
import { type ClientFactory, openClient } from "./client.js";
import { ${n.pascal}ConnectionSchema, ${n.pascal}PointSchema } from "./config.js";

/** The definition, with the client factory injectable so unit tests can fake the client seam. */
export function ${n.camel}AdapterWith(open: ClientFactory) {
  return defineAdapter({
    type: "${n.type}",
    description: "TODO: one line saying what devices this adapter talks to.",
    sdk: "${n.sdkRange}",
    connectionSchema: ${n.pascal}ConnectionSchema,
    pointSchema: ${n.pascal}PointSchema,
    capabilities: ["read"],
    create: (ctx) => create${n.pascal}(ctx, open),
  });
}

/** The \`${n.type}\` adapter type. */
export const ${n.camel}Adapter = ${n.camel}AdapterWith(openClient);

export default ${n.camel}Adapter;
`;
}

/** \`src/config.ts\`: TypeBox schemas, a description on every field. */
export function configTs(n: ScaffoldNames): string {
  return `/**
 * Settings of the ${n.type} adapter, declared once in TypeBox: the device's \`connection\` object and
 * the fields merged into each point. Every field needs a \`description\` (the conformance kit checks).
 */
import Type, { type Static } from "typebox";

/** The device's \`connection\` object. */
export const ${n.pascal}ConnectionSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, description: "Host name or IP address of the device." }),
    port: Type.Integer({ minimum: 1, maximum: 65535, description: "TCP port of the device." }),
    timeoutMs: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: 3000,
        description: "How long to wait for the device to answer, in ms.",
      }),
    ),
  },
  { additionalProperties: false, description: "How to reach one ${n.type} device." },
);

/** The adapter's own point fields, merged flat with the core point fields (id, type, unit, ...). */
export const ${n.pascal}PointSchema = Type.Object(
  {
    address: Type.String({
      minLength: 1,
      description: "Where the point's value lives on the device. TODO: describe the address syntax.",
    }),
  },
  { additionalProperties: false, description: "${n.type} point settings." },
);

/** Validated \`connection\` settings. */
export type ${n.pascal}Settings = Static<typeof ${n.pascal}ConnectionSchema>;
/** The adapter's own point fields. */
export type ${n.pascal}PointFields = Static<typeof ${n.pascal}PointSchema>;
`;
}

/** \`src/client.ts\`: the seam around the protocol library, left to implement. */
export function clientTs(n: ScaffoldNames): string {
  return `/**
 * The client seam: the few calls the adapter makes to a ${n.type} device. Wrap the protocol library
 * here and nowhere else; unit tests may fake this interface, integration tests use a real peer.
 */
import type { SampleValue } from "tagbridge/sdk";
import type { ${n.pascal}Settings } from "./config.js";

/** The outcome of reading one address: a value, or a protocol status for a bad sample. */
export type ReadResult = { ok: true; value: SampleValue; sourceTs?: number } | { ok: false; status: string };

/** A connection to one device. */
export interface Client {
  /** Connects; rejects when the device is unreachable. Settles promptly once \`signal\` aborts. */
  connect(signal: AbortSignal): Promise<void>;
  /**
   * Reads addresses, one result per address, in order. A failing address is a result with a status;
   * a connection-wide failure rejects.
   */
  read(addresses: readonly string[]): Promise<ReadResult[]>;
  /** Disconnects. Idempotent. */
  close(): Promise<void>;
}

/** Makes a client for one device's settings; does no I/O. */
export type ClientFactory = (settings: ${n.pascal}Settings) => Client;

/** The real client. TODO: implement it with your protocol library. */
export const openClient: ClientFactory = (settings) => ({
  async connect() {
    throw new Error(
      "${n.type}: client not implemented yet (src/client.ts); cannot connect to " +
        settings.host + ":" + settings.port,
    );
  },
  async read() {
    throw new Error("${n.type}: client not implemented yet (src/client.ts)");
  },
  async close() {},
});
`;
}

/** \`src/adapter.ts\`: lifecycle and sample mapping over the client seam. */
export function adapterTs(n: ScaffoldNames): string {
  return `/**
 * The ${n.type} adapter: start/stop/read over the client seam. Polled: the core schedules reads, so
 * this file owns no timers.
 */
import type { Adapter, AdapterContext, PointConfig, Sample } from "tagbridge/sdk";
import type { Client, ClientFactory, ReadResult } from "./client.js";
import type { ${n.pascal}PointFields, ${n.pascal}Settings } from "./config.js";

/** A point as the adapter sees it: core fields plus \`address\`. */
export type ${n.pascal}Point = PointConfig<${n.pascal}PointFields>;

/** The context the core hands one instance. */
export type ${n.pascal}Context = AdapterContext<${n.pascal}Settings, ${n.pascal}PointFields>;

/** Creates an instance for one device. No I/O here: the client connects in start(). */
export function create${n.pascal}(
  ctx: ${n.pascal}Context,
  open: ClientFactory,
): Required<Pick<Adapter<${n.pascal}PointFields>, "start" | "stop" | "read">> {
  let client: Client | undefined;
  let starting: AbortController | undefined;

  return {
    async start() {
      const abort = new AbortController();
      starting = abort;
      const next = open(ctx.settings);
      try {
        await next.connect(abort.signal);
        if (abort.signal.aborted) throw new Error("stopped while connecting");
      } catch (error) {
        await next.close();
        throw error;
      } finally {
        if (starting === abort) starting = undefined;
      }
      client = next;
      ctx.log.debug("connected");
    },

    async stop() {
      starting?.abort();
      const current = client;
      client = undefined;
      await current?.close();
    },

    async read(points) {
      const current = client;
      if (!current) throw new Error("not connected");
      const results = await current.read(points.map((p) => p.address));
      return points.map((p, i) => toSample(p, results[i]));
    },
  };
}

/** One result as a sample: the core checks the value against the point's type and scales it. */
function toSample(point: ${n.pascal}Point, result: ReadResult | undefined): Sample {
  if (!result) return { point: point.id, value: null, quality: "bad", status: "NoResult" };
  if (!result.ok) return { point: point.id, value: null, quality: "bad", status: result.status };
  return { point: point.id, value: result.value, ...(result.sourceTs ? { sourceTs: result.sourceTs } : {}) };
}
`;
}
