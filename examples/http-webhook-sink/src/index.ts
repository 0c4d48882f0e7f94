/**
 * The http-webhook sink definition: POSTs batches of readings as JSON to a URL. The gateway
 * imports this package by name (config `sinks: [tagbridge-sink-http-webhook]`) and takes its
 * default export.
 */
import { defineSink } from "tagbridge/sdk";
import { openClient } from "./client.js";
import { checkSettings, WebhookSettingsSchema } from "./config.js";
import { type ClientFactory, createWebhook } from "./sink.js";

/** The definition, with the HTTP client injectable (the seam a unit test may replace). */
export function httpWebhookSinkWith(open: ClientFactory) {
  return defineSink({
    type: "http-webhook",
    description: "POSTs batches of readings as JSON arrays to a webhook URL; an HTTP 2xx acknowledges them.",
    sdk: "^1.0.0",
    settingsSchema: WebhookSettingsSchema,
    capabilities: ["ack", "replay", "batch"],
    check: checkSettings,
    create: (ctx) => createWebhook(ctx, open),
  });
}

/** The `http-webhook` sink type. */
export const httpWebhookSink = httpWebhookSinkWith(openClient);

export default httpWebhookSink;
