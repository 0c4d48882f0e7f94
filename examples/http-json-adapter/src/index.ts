/**
 * The http-json adapter definition: polls JSON documents over HTTP. The gateway imports this
 * package by name (config `adapters: [tagbridge-adapter-http-json]`) and takes its default export.
 */
import { defineAdapter } from "tagbridge/sdk";
import { createHttpJson } from "./adapter.js";
import { type ClientFactory, openClient } from "./client.js";
import { HttpJsonConnectionSchema, HttpJsonPointSchema } from "./config.js";

/** The definition, with the client factory injectable so unit tests can fake the client seam. */
export function httpJsonAdapterWith(open: ClientFactory) {
  return defineAdapter({
    type: "http-json",
    description: "Polls JSON documents over HTTP and picks point values with JSONPath.",
    sdk: "^1.0.0",
    connectionSchema: HttpJsonConnectionSchema,
    pointSchema: HttpJsonPointSchema,
    capabilities: ["read"],
    create: (ctx) => createHttpJson(ctx, open),
  });
}

/** The `http-json` adapter type. */
export const httpJsonAdapter = httpJsonAdapterWith(openClient);

export default httpJsonAdapter;
