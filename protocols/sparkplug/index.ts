/** Sparkplug B: topics, payloads (the specification's protobuf schema, protobufjs 7) and the host-side edge node session. Pure. */
export * from "./payload.js";
export * from "./session.js";
export * from "./topic.js";
