/** The device list: one link per device with its state, so an outage shows from any page. */
import { h, replace } from "../dom.js";
import type { DeviceStore } from "../store.js";

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
