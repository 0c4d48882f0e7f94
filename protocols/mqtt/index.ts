/** MQTT topic filters, topic templates and payload extraction. Pure. */
export * from "./extract.js";
export * from "./options.js";
export * from "./topic.js";
