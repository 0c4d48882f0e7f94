/** Pure OPC UA conversions: variants, status codes, endpoint choice, subscription layout. */
export * from "./endpoint.js";
export * from "./layout.js";
export * from "./nodeid.js";
export * from "./status.js";
export * from "./variant.js";
