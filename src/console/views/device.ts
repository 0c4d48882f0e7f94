/**
 * One device: its state and counters, and tabs for its points (live), its read plan (adapters that
 * have one, e.g. Modbus) and its address space (adapters that browse, e.g. OPC UA).
 */
import { api, seg } from "../api.js";
import { h, replace, setText } from "../dom.js";
import { formatTime } from "../format.js";
import { type LinkState, LiveStream } from "../live.js";
import type { Session } from "../main.js";
import type { DeviceInfo } from "../types.js";
import { browseView } from "./browse.js";
import { planView } from "./plan.js";
import { PointsView } from "./points.js";

const COUNTERS: [key: string, label: string][] = [
  ["reads", "reads"],
  ["readErrors", "read errors"],
  ["overruns", "overruns"],
  ["missedPolls", "missed polls"],
  ["skippedPolls", "skipped polls"],
  ["samples", "samples"],
  ["badSamples", "bad samples"],
  ["readings", "readings"],
  ["droppedReadings", "dropped readings"],
  ["reconnects", "reconnects"],
  ["staleMarks", "stale marks"],
  ["faults", "faults"],
  ["lastReadMs", "last read ms"],
];

/** Counters of samples not taken or readings lost: marked when not zero (see the README's Device counters). */
const LOSSES: ReadonlySet<string> = new Set(["overruns", "missedPolls", "skippedPolls", "droppedReadings"]);

const TITLES: Record<string, string> = {
  overruns: "poll ticks not read: the previous read of the group was still running",
  missedPolls: "poll ticks that never ran: the gateway's event loop was blocked past them",
  skippedPolls: "poll ticks not read: the device was not connected",
  droppedReadings:
    "readings lost: a consumer's full queue (history, north, a stream) or held while connecting",
};

export class DeviceView {
  private readonly header = h("div", { class: "device-head" });
  private readonly tabs = h("div", { class: "tabs", role: "tablist" });
  private readonly body = h("div", { class: "tab-body" });
  private readonly points: PointsView;
  private readonly live: LiveStream;
  private info: DeviceInfo | undefined;
  private tab = "";
  private hasPlan = false;

  constructor(
    pane: HTMLElement,
    readonly device: string,
    private readonly session: Session,
    link: HTMLElement,
  ) {
    replace(pane, this.header, this.tabs, this.body);
    this.points = new PointsView(device, session);
    this.live = new LiveStream(device, {
      readings: (batch) => this.points.apply(batch),
      state: (state: LinkState, detail) => {
        link.setAttribute("data-link", state);
        setText(link, state === "live" ? "● live" : `○ ${state}${detail ? ` ${detail}` : ""}`);
      },
      dropped: (count) => this.points.noteDropped(count),
    });
    void api
      .get(`devices/${seg(device)}/plan`)
      .then(() => {
        this.hasPlan = true;
        this.renderTabs();
      })
      .catch(() => {});
  }

  close(): void {
    this.live.close();
    this.points.close();
  }

  /** New state and counters from the device list poll. */
  update(info: DeviceInfo | undefined): void {
    if (!info) return;
    const first = !this.info;
    this.info = info;
    this.renderHeader(info);
    if (first) this.renderTabs();
  }

  show(tab: string): void {
    if (tab === this.tab) return;
    this.tab = tab;
    this.renderTabs();
    if (tab === "plan")
      void planView(this.body, this.device); // it shows its own errors
    else if (tab === "browse") browseView(this.body, this.device, this.session);
    else replace(this.body, this.points.element);
  }

  private renderTabs(): void {
    const base = `#/device/${encodeURIComponent(this.device)}`;
    const tabs: [string, string][] = [["points", "Points"]];
    if (this.hasPlan) tabs.push(["plan", "Read plan"]);
    if (this.info?.type === "opcua") tabs.push(["browse", "Browse"]);
    replace(
      this.tabs,
      ...tabs.map(([id, label]) =>
        h(
          "a",
          { href: `${base}/${id}`, role: "tab", "aria-selected": String(id === this.tab), "data-tab": id },
          label,
        ),
      ),
    );
  }

  private renderHeader(d: DeviceInfo): void {
    replace(
      this.header,
      h(
        "h1",
        {},
        d.id,
        " ",
        h(
          "span",
          { class: `state state-${d.state}`, "data-testid": "device-state", "data-state": d.state },
          d.state,
        ),
      ),
      h(
        "p",
        { class: "muted" },
        `${d.type}${d.description ? ` · ${d.description}` : ""} · ${d.state} since ${formatTime(d.stateSince)}`,
        d.enabled ? "" : " · disabled",
      ),
      d.stateReason ? h("p", { class: "reason" }, d.stateReason) : null,
      h(
        "dl",
        { class: "counters" },
        ...COUNTERS.flatMap(([key, label]) => {
          const value = d.counters[key];
          const lost = LOSSES.has(key) && typeof value === "number" && value > 0;
          return [
            h("dt", { title: TITLES[key] }, label),
            h(
              "dd",
              { "data-counter": key, class: lost ? "loss" : undefined },
              value === null ? "—" : String(value ?? "—"),
            ),
          ];
        }),
      ),
    );
    this.points.setDeviceState(d.state);
  }
}
