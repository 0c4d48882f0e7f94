/** Sparkplug B: topics, payloads (Eclipse Tahu codec) and the host-side edge node session. Pure. */
export * from "./payload.js";
export * from "./session.js";
export * from "./topic.js";
