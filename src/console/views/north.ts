/**
 * North sinks (`GET /api/v1/north`): where readings go, whether each sink is connected, and its
 * store-and-forward buffer. Columns are whatever the API returns, known ones first, so the panel
 * keeps up as sinks gain fields. Hidden when the gateway has no north API (404).
 */
import { ApiError, api } from "../api.js";
import { h, replace } from "../dom.js";
import { formatAge } from "../format.js";

const POLL_MS = 5_000;
const KNOWN = ["id", "type", "connected", "published", "buffered", "dropped", "oldestBufferedAgeMs"];
const LABELS: Record<string, string> = { oldestBufferedAgeMs: "oldest buffered" };

type Sink = Record<string, unknown>;

export function northPanel(section: HTMLElement): void {
  const poll = async () => {
    if (!section.isConnected) return;
    try {
      const sinks = await api.get<Sink[] | { sinks?: Sink[] }>("north");
      render(section, Array.isArray(sinks) ? sinks : (sinks.sinks ?? []));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        section.hidden = true;
        return; // no north API on this gateway: stop asking
      }
      section.hidden = false;
      replace(section, h("h2", {}, "North"), h("p", { class: "error" }, String(error)));
    }
    window.setTimeout(poll, POLL_MS);
  };
  void poll();
}

/** One card per sink (the panel sits in the narrow sidebar): known fields first, then the rest. */
function render(section: HTMLElement, sinks: Sink[]): void {
  section.hidden = false;
  replace(
    section,
    h("h2", {}, "North sinks"),
    sinks.length === 0
      ? h("p", { class: "muted" }, "No north sinks configured.")
      : h(
          "ul",
          { class: "sinks" },
          ...sinks.map((s) => {
            const keys = [
              ...KNOWN.filter((k) => k in s && k !== "id" && k !== "type"),
              ...Object.keys(s).filter((k) => !KNOWN.includes(k)),
            ];
            return h(
              "li",
              { "data-sink": String(s.id ?? ""), "data-connected": String(s.connected ?? "") },
              h("strong", {}, String(s.id ?? "?")),
              h("span", { class: "muted" }, ` ${String(s.type ?? "")}`),
              h(
                "dl",
                {},
                ...keys.flatMap((k) => [
                  h("dt", {}, LABELS[k] ?? k),
                  h("dd", { class: cellClass(k, s[k]) }, cell(k, s[k])),
                ]),
              ),
            );
          }),
        ),
  );
}

function cell(column: string, value: unknown): string {
  if (value === undefined || value === null) return "—";
  if (column === "oldestBufferedAgeMs" && typeof value === "number") return formatAge(value);
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function cellClass(column: string, value: unknown): string | undefined {
  if (column === "connected") return value ? "ok" : "bad";
  if (column === "dropped" && typeof value === "number" && value > 0) return "bad";
  return undefined;
}
