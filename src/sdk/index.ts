/**
 * The tagbridge SDK: the only module an adapter or a sink (built-in or third-party) imports from
 * the core.
 */

/** TypeBox, re-exported so an adapter package can declare its schemas with `tagbridge` as its only dependency. */
export { default as Type, type Static, type TObject, type TSchema } from "typebox";
export type { PointType, Quality, Reading, ScalarType } from "../schema/reading.js";
export { POINT_TYPES, QUALITIES } from "../schema/reading.js";
export type { SampleValue } from "../schema/values.js";
export type {
  Adapter,
  AdapterContext,
  AdapterDefinition,
  BrowseNode,
  Capability,
  CertificateInfo,
  CertificateStore,
  Clock,
  ConfigProblem,
  Counter,
  DeviceState,
  Gauge,
  Metrics,
  ReportedState,
  RunningSimulator,
  Sample,
  SimulatorOptions,
  WriteResult,
} from "./adapter.js";
export { defineAdapter, WriteRefused } from "./adapter.js";
export { type LazyModule, lazyImport } from "./lazy.js";
export type { CorePoint, PointConfig } from "./point.js";
export { CorePointSchema, coreDeviceProperties, corePointProperties } from "./point.js";
export type {
  Sink,
  SinkBatch,
  SinkBatchPolicy,
  SinkCapability,
  SinkContext,
  SinkDefinition,
  SinkState,
  SinkStateStore,
} from "./sink.js";
export { defineSink } from "./sink.js";
export { SDK_VERSION } from "./version.js";
