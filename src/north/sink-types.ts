/** The config types of the built-in sinks' `north:` entries: the core fields plus each sink's settings. */
import type { Static, TObject } from "typebox";
import type { CORE_SINK_PROPERTIES } from "./config.js";
import type { MqttSettings } from "./mqtt-config.js";
import type { NatsSettings } from "./nats-config.js";
import type { SparkplugSettings } from "./sparkplug-config.js";

export type { MqttBatchConfig, MqttFields } from "./mqtt-config.js";

type Core = Static<TObject<typeof CORE_SINK_PROPERTIES>>;

export type MqttSinkConfig = { type: "mqtt" } & Core & MqttSettings;
export type SparkplugSinkConfig = { type: "sparkplug" } & Core & SparkplugSettings;
export type NatsSinkConfig = { type: "nats" } & Core & NatsSettings;
/** A built-in sink's entry. Third-party sinks' entries are {@link AnySinkConfig} (config.ts). */
export type SinkConfig = MqttSinkConfig | SparkplugSinkConfig | NatsSinkConfig;
/** The top-level `north:` array. */
export type NorthConfig = (SinkConfig | import("./config.js").AnySinkConfig)[];
