/**
 * A sink's own metrics (`ctx.metrics`): counters `tagbridge_sink_<name>_total` and gauges
 * `tagbridge_sink_<name>`, labelled `{sink, type}`, in the gateway's prom-client registry. One
 * prom-client metric per name serves every sink using it; a restarted north reuses it.
 */
import { Counter as PromCounter, Gauge as PromGauge, type Registry } from "prom-client";
import { checked } from "../core/metrics.js";
import type { Counter, Gauge, Metrics } from "../sdk/adapter.js";

/** The metrics of one sink; without a registry they count nowhere (a gateway without /metrics). */
export function sinkMetrics(registry: Registry | undefined, sink: string, type: string): Metrics {
  const labels = { sink, type };
  const metric = <M extends PromCounter | PromGauge>(
    name: string,
    help: string,
    make: (options: { name: string; help: string; labelNames: string[]; registers: Registry[] }) => M,
  ): M | undefined => {
    if (!registry) return undefined;
    const existing = registry.getSingleMetric(name) as M | undefined;
    return existing ?? make({ name, help, labelNames: ["sink", "type"], registers: [registry] });
  };
  return {
    counter(name, help): Counter {
      const c = metric(`tagbridge_sink_${checked(name)}_total`, help, (o) => new PromCounter(o));
      return { inc: (by = 1) => c?.inc(labels, by) };
    },
    gauge(name, help): Gauge {
      const g = metric(`tagbridge_sink_${checked(name)}`, help, (o) => new PromGauge(o));
      return { set: (v) => g?.set(labels, v) };
    },
  };
}
