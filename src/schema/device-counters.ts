/**
 * The counters of one device, declared once: the runtime's `DeviceCounters` type, the API's
 * response schema (GET /api/v1/devices), the OpenAPI document and the README table derive from
 * `DeviceCountersSchema`. Lives here, beside the Reading, so the core can use it without
 * depending on the HTTP layer.
 *
 * The poll accounting: every grid tick of every poll group of a polled device is counted exactly
 * once, as `reads + readErrors + overruns + missedPolls + skippedPolls` (a read queued or running,
 * at most one per group, is the only tick not counted yet). What happens to a sample after it was taken is counted in
 * `samples`, `readings` and `droppedReadings`.
 */
import Type, { type Static } from "typebox";

const count = (description: string) => Type.Integer({ minimum: 0, description });

export const DeviceCountersSchema = Type.Object(
  {
    reads: count("Poll ticks whose read() returned."),
    readErrors: count("Poll ticks whose read() threw (connection-wide failures)."),
    overruns: count(
      "Poll ticks not read because the previous read of the same group was still queued or running.",
    ),
    missedPolls: count(
      "Poll ticks that never ran because their timer fired late, past them (the gateway's event loop was busy) while the device was connected; one per group and tick.",
    ),
    skippedPolls: count(
      "Poll ticks not read because the device was not connected: connecting, disconnected, restarting after a failure or fault, or stopping (late or not).",
    ),
    samples: count("Samples received from the adapter (polled and pushed)."),
    badSamples: count("Samples with a non-good quality, including type mismatches."),
    readings: count("Readings published to the bus."),
    droppedReadings: count(
      "Readings of this device that were lost: dropped by a bus consumer whose queue was full (history, a north sink's queue, a stream client), dropped for good by a north sink's store-and-forward buffer bounds (size or age), and samples held while the device was not connected that were evicted beyond the bound or discarded when it disconnected. Per consumer in /metrics.",
    ),
    reconnects: count("Successful reconnects after the first connect, by the core or the protocol library."),
    faults: count(
      "Failures that escaped the adapter (an exception in a library callback, an unhandled rejection) and faulted the device.",
    ),
    staleMarks: count(
      "Times a good point was republished uncertain/Stale because its values stopped arriving.",
    ),
    lastReadMs: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], {
      description: "Duration of the last read() in ms.",
    }),
  },
  { additionalProperties: false, description: "Counters of the device since the gateway started it." },
);

/** Counters of one device since the gateway started it (see `DeviceCountersSchema`). */
export type DeviceCounters = Static<typeof DeviceCountersSchema>;

/** Counters of a device that has done nothing yet. */
export function zeroCounters(): DeviceCounters {
  return {
    reads: 0,
    readErrors: 0,
    overruns: 0,
    missedPolls: 0,
    skippedPolls: 0,
    samples: 0,
    badSamples: 0,
    readings: 0,
    droppedReadings: 0,
    reconnects: 0,
    faults: 0,
    staleMarks: 0,
    lastReadMs: null,
  };
}
