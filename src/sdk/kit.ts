/**
 * Test helpers for adapter and sink authors (`tagbridge/sdk/testing`): a context to drive an
 * adapter or a sink in unit tests, and the conformance kits every adapter and every sink runs.
 */
export { adapterConformance, type ConformanceCheck, type ConformanceFixture } from "./conformance.js";
export { type BuildReport, buildCheck, type SampleDevice } from "./conformance-build.js";
export { type SinkConformanceFixture, sinkConformance } from "./sink-conformance.js";
export {
  CORE_SINK_FIELDS,
  decodeBatchPayload,
  encodeBatches,
  type KitOrdering,
  kitSeqOf,
  type ReceivedReading,
} from "./sink-conformance-rules.js";
export {
  createSinkTestContext,
  type RecordedSinkState,
  type SinkTestContext,
  type SinkTestContextOptions,
} from "./sink-testing.js";
export {
  createTestContext,
  FAKE_CLOCK_START,
  FakeClock,
  MemoryMetrics,
  type RecordedState,
  type TestContext,
  type TestContextOptions,
} from "./testing.js";
