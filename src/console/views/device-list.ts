/**
 * The device list: one link per device with its state, so an outage shows from any page, and its
 * losses (poll ticks not taken / readings dropped), marked when not zero.
 */
import { h, replace } from "../dom.js";
import { losses } from "../format.js";
import type { DeviceStore } from "../store.js";
import type { DeviceInfo } from "../types.js";

/** `12 not taken / 0 dropped`: one figure, so a device losing data stands out in the list. */
function lossFigure(d: DeviceInfo): HTMLElement {
  const l = losses(d.counters);
  const any = l.notTaken > 0 || l.droppedReadings > 0;
  return h(
    "span",
    {
      class: any ? "losses losses-some" : "losses",
      "data-testid": "losses",
      "data-not-taken": l.notTaken,
      "data-dropped": l.droppedReadings,
      title: l.detail,
    },
    `${any ? "⚠ " : ""}${l.notTaken} not taken / ${l.droppedReadings} dropped`,
  );
}

export function deviceList(nav: HTMLElement, store: DeviceStore): void {
  replace(nav, h("h2", {}, "Devices"), h("p", { class: "muted" }, "loading…"));
  store.subscribe((devices) => {
    const selected = nav.querySelector("a.selected")?.getAttribute("data-device");
    const items = devices.map((d) =>
      h(
        "li",
        {},
        h(
          "a",
          {
            href: `#/device/${encodeURIComponent(d.id)}`,
            "data-device": d.id,
            "data-state": d.state,
            class: d.id === selected ? "selected" : undefined,
            title: d.stateReason ? `${d.state}: ${d.stateReason}` : d.state,
          },
          h("span", { class: `state state-${d.state}` }, d.state),
          h("span", { class: "device-id" }, d.id),
          h("span", { class: "muted" }, `${d.type} · ${d.pointCount} point${d.pointCount === 1 ? "" : "s"}`),
          lossFigure(d),
        ),
      ),
    );
    replace(
      nav,
      h("h2", {}, "Devices"),
      items.length ? h("ul", {}, ...items) : h("p", { class: "muted" }, "No devices configured."),
    );
  });
}
