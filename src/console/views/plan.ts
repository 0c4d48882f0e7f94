/**
 * How the adapter reads the device (`GET …/plan`): for Modbus, the block requests per poll group,
 * each with its function code, address range and the points it serves.
 */
import { api, seg } from "../api.js";
import { h, replace } from "../dom.js";

interface ModbusRequest {
  unitId: number;
  table: string;
  function: number | string;
  address: number;
  count: number;
  points: string[];
}

interface ModbusPlan {
  limits?: Record<string, number>;
  requestCount?: number;
  groups?: { pollIntervalMs: number | string; requests: ModbusRequest[] }[];
}

export async function planView(body: HTMLElement, device: string): Promise<void> {
  replace(body, h("p", { class: "muted" }, "loading the read plan…"));
  let plan: ModbusPlan;
  try {
    plan = await api.get<ModbusPlan>(`devices/${seg(device)}/plan`);
  } catch (error) {
    replace(body, h("p", { class: "error" }, String(error)));
    return;
  }
  if (!Array.isArray(plan.groups)) {
    replace(body, h("pre", { class: "json" }, JSON.stringify(plan, null, 2)));
    return;
  }
  const limits = Object.entries(plan.limits ?? {})
    .map(([k, v]) => `${k} ${v}`)
    .join(" · ");
  replace(
    body,
    h(
      "p",
      {},
      `${plan.requestCount ?? "?"} requests per full poll cycle.`,
      limits ? h("span", { class: "muted" }, ` Limits: ${limits}.`) : null,
    ),
    ...plan.groups.map((group) =>
      h(
        "section",
        { class: "plan-group" },
        h(
          "h3",
          {},
          group.pollIntervalMs === "device"
            ? "Points at the device's poll interval"
            : `Points polled every ${group.pollIntervalMs} ms`,
        ),
        h(
          "table",
          { class: "plan" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ...["unit", "table", "function", "address", "count", "points"].map((c) => h("th", {}, c)),
            ),
          ),
          h(
            "tbody",
            {},
            ...group.requests.map((r) =>
              h(
                "tr",
                {},
                h("td", {}, String(r.unitId)),
                h("td", {}, r.table),
                h("td", {}, typeof r.function === "number" ? `FC${r.function}` : r.function),
                h("td", { class: "num" }, `${r.address}–${r.address + r.count - 1}`),
                h("td", { class: "num" }, String(r.count)),
                h("td", {}, r.points.join(", ")),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}
