/**
 * Test helpers for adapter authors (`tagbridge/sdk/testing`): a context to drive an adapter in unit
 * tests, and the conformance kit every adapter runs.
 */
export { adapterConformance, type ConformanceCheck, type ConformanceFixture } from "./conformance.js";
export { type BuildReport, buildCheck, type SampleDevice } from "./conformance-build.js";
export {
  createTestContext,
  FAKE_CLOCK_START,
  FakeClock,
  MemoryMetrics,
  type RecordedState,
  type TestContext,
  type TestContextOptions,
} from "./testing.js";
