/**
 * The points of a device with their live values: quality at a glance (colour and word), the
 * protocol status behind it, unit and source timestamp; a trend per chartable point, and a write
 * form per writable point for operators and admins.
 */
import { api, roleAtLeast, seg } from "../api.js";
import { h, replace, setText } from "../dom.js";
import { chartable, formatTime, formatValue } from "../format.js";
import type { Session } from "../main.js";
import type { DeviceInfo, PointInfo, Reading } from "../types.js";
import { TrendPanel } from "./trend.js";
import { writeForm } from "./write.js";

interface Row {
  point: PointInfo;
  tr: HTMLTableRowElement;
  value: HTMLElement;
  quality: HTMLElement;
  ts: HTMLElement;
}

export class PointsView {
  readonly element = h("section", { class: "points" });
  private readonly rows = new Map<string, Row>();
  private readonly notice = h("p", { class: "notice", hidden: true });
  private readonly trendSlot = h("div", { class: "trend-slot" });
  private trend: TrendPanel | undefined;
  private pending: Reading[] = [];
  private dropped = 0;
  private loaded = false;

  constructor(
    private readonly device: string,
    private readonly session: Session,
  ) {
    replace(this.element, h("p", { class: "muted" }, "loading points…"));
    void this.load();
  }

  close(): void {
    this.trend?.destroy();
  }

  /** Live readings; those arriving before the point list are kept and applied after it. */
  apply(batch: Reading[]): void {
    if (!this.loaded) {
      this.pending.push(...batch);
      return;
    }
    for (const reading of batch) {
      const row = this.rows.get(reading.point);
      if (!row) continue;
      this.show(row, reading);
      if (this.trend?.point === reading.point) this.trend.push(reading);
    }
  }

  noteDropped(count: number): void {
    this.dropped += count;
    this.notice.hidden = false;
    setText(this.notice, `The gateway skipped ${this.dropped} readings this view could not keep up with.`);
  }

  setDeviceState(state: DeviceInfo["state"]): void {
    this.element.setAttribute("data-device-state", state);
  }

  private async load(): Promise<void> {
    let points: PointInfo[];
    try {
      points = await api.get<PointInfo[]>(`devices/${seg(this.device)}/points`);
    } catch (error) {
      replace(this.element, h("p", { class: "error" }, String(error)));
      return;
    }
    const canWrite = roleAtLeast(this.session.role, "operator");
    const tbody = h("tbody");
    for (const point of points) {
      const row = this.row(point, canWrite);
      this.rows.set(point.id, row);
      tbody.append(row.tr);
      if (point.latest) this.show(row, point.latest);
    }
    const anyWritable = points.some((p) => p.access === "readwrite");
    replace(
      this.element,
      this.notice,
      h(
        "table",
        { class: "points-table" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", {}, "point"),
            h("th", { class: "num" }, "value"),
            h("th", {}, "unit"),
            h("th", {}, "quality"),
            h("th", {}, "timestamp"),
            h("th", {}, ""),
            h("th", {}, "write"),
          ),
        ),
        tbody,
      ),
      anyWritable && !canWrite
        ? h("p", { class: "muted" }, `Writes need the operator role; '${this.session.name}' is a viewer.`)
        : null,
      this.trendSlot,
    );
    this.loaded = true;
    const pending = this.pending;
    this.pending = [];
    this.apply(pending);
  }

  private row(point: PointInfo, canWrite: boolean): Row {
    const value = h("td", { class: "num value" }, "—");
    const quality = h("td", { class: "quality" }, h("span", { class: "q q-none" }, "no value"));
    const ts = h("td", { class: "ts" }, "");
    const trendButton = chartable(point.type)
      ? h("button", { type: "button", class: "link-button", onclick: () => this.openTrend(point) }, "Trend")
      : null;
    const write =
      point.access === "readwrite" && canWrite
        ? writeForm(this.device, point)
        : h("span", { class: "muted" });
    const tr = h(
      "tr",
      { "data-point": point.id, "data-quality": "none" },
      h(
        "td",
        { title: [point.description, point.address].filter(Boolean).join(" · ") },
        h("span", { class: "point-id" }, point.id),
        h("span", { class: "muted type" }, point.type),
      ),
      value,
      h("td", { class: "unit" }, point.unit ?? ""),
      quality,
      ts,
      h("td", {}, trendButton),
      h("td", {}, write),
    );
    return { point, tr, value, quality, ts };
  }

  private show(row: Row, reading: Reading): void {
    row.tr.setAttribute("data-quality", reading.quality);
    const text = formatValue(reading.value, reading.type);
    if (row.value.textContent !== text) {
      row.value.textContent = text;
      row.value.classList.remove("changed");
      void row.value.offsetWidth; // restart the highlight animation
      row.value.classList.add("changed");
    }
    replace(
      row.quality,
      h("span", { class: `q q-${reading.quality}` }, reading.quality),
      reading.status ? h("span", { class: "status" }, reading.status) : null,
    );
    setText(row.ts, formatTime(reading.ts));
    row.ts.title = `ts ${reading.ts} · received ${reading.receivedAt} · seq ${reading.seq}`;
  }

  private openTrend(point: PointInfo): void {
    this.trend?.destroy();
    this.trend = new TrendPanel(this.device, point, () => {
      this.trend?.destroy();
      this.trend = undefined;
      replace(this.trendSlot);
    });
    replace(this.trendSlot, this.trend.element);
    this.trend.element.scrollIntoView({ block: "nearest" });
  }
}
