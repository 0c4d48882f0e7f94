/**
 * A trend of one point: history from `…/points/:point/history` (raw samples for short ranges,
 * min/avg/max buckets for long ones), then the live readings appended as they arrive.
 */
import uPlot from "uplot";
import { ApiError, api, seg } from "../api.js";
import { h, replace } from "../dom.js";
import { numeric } from "../format.js";
import type { HistoryResponse, PointInfo, Reading } from "../types.js";

const RANGES: { label: string; ms: number; bucket?: string }[] = [
  { label: "10 min", ms: 10 * 60_000 },
  { label: "1 h", ms: 3_600_000, bucket: "10s" },
  { label: "24 h", ms: 24 * 3_600_000, bucket: "5m" },
];
const MAX_LIVE_POINTS = 5_000;

export class TrendPanel {
  readonly element: HTMLElement;
  readonly point: string;
  private readonly plotSlot = h("div", { class: "plot", "data-testid": "trend-plot" });
  private readonly status = h("p", { class: "muted" });
  private plot: uPlot | undefined;
  private data: [number[], (number | null)[], ...(number | null)[][]] = [[], []];
  private bucketed = false;
  private readonly onResize = () => this.resize();

  constructor(
    private readonly device: string,
    private readonly info: PointInfo,
    onClose: () => void,
  ) {
    this.point = info.id;
    const select = h(
      "select",
      { "aria-label": "range" },
      ...RANGES.map((r, i) => h("option", { value: i }, r.label)),
    );
    select.addEventListener("change", () => void this.load(RANGES[Number(select.value)] ?? RANGES[0]!));
    this.element = h(
      "section",
      { class: "trend", "data-trend": info.id },
      h(
        "div",
        { class: "trend-head" },
        h("h2", {}, `Trend: ${info.id}`, info.unit ? h("span", { class: "muted" }, ` (${info.unit})`) : null),
        select,
        h("button", { type: "button", class: "link-button", onclick: onClose }, "Close"),
      ),
      this.plotSlot,
      this.status,
    );
    window.addEventListener("resize", this.onResize);
    void this.load(RANGES[0]!);
  }

  destroy(): void {
    window.removeEventListener("resize", this.onResize);
    this.plot?.destroy();
    this.plot = undefined;
  }

  /** A live reading of this point; appended to raw trends (bucketed ones refresh on range change). */
  push(reading: Reading): void {
    if (!this.plot || this.bucketed) return;
    const x = Date.parse(reading.ts) / 1_000;
    const xs = this.data[0];
    if (xs.length && x <= xs[xs.length - 1]!) return;
    xs.push(x);
    this.data[1].push(reading.quality === "bad" ? null : numeric(reading.value));
    if (xs.length > MAX_LIVE_POINTS) for (const series of this.data) series.shift();
    this.plot.setData(this.data);
    this.plotSlot.setAttribute("data-samples", String(xs.length));
  }

  private async load(range: { ms: number; bucket?: string }): Promise<void> {
    const to = new Date();
    const from = new Date(to.getTime() - range.ms);
    const query = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), limit: "10000" });
    if (range.bucket) query.set("bucket", range.bucket);
    let history: HistoryResponse;
    try {
      history = await api.get<HistoryResponse>(
        `devices/${seg(this.device)}/points/${seg(this.point)}/history?${query}`,
      );
    } catch (error) {
      const text =
        error instanceof ApiError && error.code === "TB_ERR_ROUTE_NOT_FOUND"
          ? "History is off on this gateway (history.mode: off); the trend shows live values only."
          : String(error);
      this.status.textContent = text;
      this.bucketed = false;
      this.draw([[], []], false);
      return;
    }
    if (history.buckets) {
      const b = history.buckets;
      this.draw(
        [
          b.map((s) => Date.parse(s.ts) / 1_000),
          b.map((s) => s.avg),
          b.map((s) => s.min),
          b.map((s) => s.max),
        ],
        true,
      );
    } else {
      const s = history.samples ?? [];
      this.draw(
        [
          s.map((x) => Date.parse(x.ts) / 1_000),
          s.map((x) => (x.quality === "bad" ? null : numeric(x.value))),
        ],
        false,
      );
    }
    const count = this.data[0].length;
    this.status.textContent = `${count} ${history.buckets ? `buckets of ${(history.bucketMs ?? 0) / 1_000} s` : "samples"} from history${history.truncated ? " (truncated)" : ""}${history.buckets ? "" : ", live values appended"}.`;
  }

  private draw(data: TrendPanel["data"], bucketed: boolean): void {
    this.plot?.destroy();
    this.data = data;
    this.bucketed = bucketed;
    const unit = this.info.unit ?? "";
    const series: uPlot.Series[] = [
      {},
      { label: bucketed ? "avg" : this.point, stroke: "#1f6feb", width: 1.5, spanGaps: false },
    ];
    if (bucketed)
      series.push(
        { label: "min", stroke: "#8fb5f5", width: 1 },
        { label: "max", stroke: "#8fb5f5", width: 1 },
      );
    const options: uPlot.Options = {
      width: this.width(),
      height: 260,
      series,
      scales: { x: { time: true } },
      axes: [{}, { label: unit, size: 60 }],
      legend: { live: true },
    };
    replace(this.plotSlot);
    this.plot = new uPlot(options, data, this.plotSlot);
    this.plotSlot.setAttribute("data-samples", String(data[0].length));
  }

  private width(): number {
    return Math.max(320, (this.element?.clientWidth || this.plotSlot.clientWidth || 800) - 16);
  }

  private resize(): void {
    this.plot?.setSize({ width: this.width(), height: 260 });
  }
}
