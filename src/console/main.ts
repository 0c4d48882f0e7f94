/**
 * The tagbridge web console: sign in with an API token, then devices, live points, trends, writes,
 * OPC UA browsing, Modbus read plans and north sinks, all from the gateway's public HTTP API.
 */
import "uplot/dist/uPlot.min.css";
import "./style.css";
import { ApiError, adoptTokenFromFragment, api, type Role, storedToken, storeToken } from "./api.js";
import { h, replace } from "./dom.js";
import { type DeviceStore, startDeviceStore } from "./store.js";
import { DeviceView } from "./views/device.js";
import { deviceList } from "./views/device-list.js";
import { northPanel } from "./views/north.js";

export interface Session {
  name: string;
  role: Role;
}

const root = document.getElementById("app")!;

async function boot(): Promise<void> {
  adoptTokenFromFragment();
  try {
    shell(await api.get<Session>("whoami"));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401)
      return login(storedToken() ? "That token was not accepted; it may have been revoked." : undefined);
    replace(root, h("p", { class: "error" }, error instanceof ApiError ? error.describe() : String(error)));
  }
}

/** The sign-in form. The token is checked with `whoami` before it is kept. */
function login(problem?: string): void {
  teardown();
  storeToken(undefined);
  const input = h("input", {
    type: "password",
    name: "token",
    autocomplete: "off",
    placeholder: "API token",
    "aria-label": "API token",
    required: true,
  });
  const message = h("p", { class: "error", role: "alert" }, problem);
  const form = h(
    "form",
    { class: "login", "data-testid": "login" },
    h("h1", {}, "tagbridge"),
    h(
      "p",
      {},
      "Sign in with an API token. A first start writes an admin token to ",
      h("code", {}, "<dataDir>/admin-token"),
      "; admins create more at ",
      h("code", {}, "POST /api/v1/tokens"),
      ".",
    ),
    input,
    h("button", { type: "submit" }, "Sign in"),
    message,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    storeToken(input.value.trim());
    try {
      shell(await api.get<Session>("whoami"));
    } catch (error) {
      storeToken(undefined);
      replace(message, error instanceof ApiError ? error.describe() : String(error));
    }
  });
  replace(root, form);
  input.focus();
}

let store: DeviceStore | undefined;
let view: DeviceView | undefined;

function teardown(): void {
  store?.stop();
  view?.close();
  store = undefined;
  view = undefined;
  window.onhashchange = null;
}

/** Header, device list and north sinks on the left, the selected device on the right. */
function shell(session: Session): void {
  teardown();
  const main = h("main", { class: "device-pane" });
  const account = h(
    "span",
    { class: "who", "data-testid": "whoami" },
    session.name,
    " · ",
    h("span", { class: `role role-${session.role}` }, session.role),
  );
  const signButton =
    session.name === "anonymous"
      ? h("button", { type: "button", onclick: () => login() }, "Sign in")
      : h("button", { type: "button", onclick: () => login() }, "Sign out");
  const link = h("span", { class: "link", "data-testid": "link" }, "");
  const nav = h("nav", { class: "devices", "aria-label": "Devices" });
  const north = h("section", { class: "north", hidden: true, "data-testid": "north" });
  replace(
    root,
    h(
      "header",
      {},
      h("a", { class: "brand", href: "#/" }, "tagbridge"),
      link,
      h("span", { class: "spacer" }),
      account,
      signButton,
    ),
    h("div", { class: "layout" }, h("aside", {}, nav, north), main),
  );

  store = startDeviceStore((error) => {
    if (error.status === 401) login("The token is no longer valid; sign in again.");
  });
  deviceList(nav, store);
  northPanel(north);

  const route = () => {
    const [, device, tab] = /^#\/device\/([^/]+)(?:\/(\w+))?/.exec(location.hash) ?? [];
    const id = device ? decodeURIComponent(device) : store?.devices[0]?.id;
    if (!id) return;
    if (view?.device !== id) {
      view?.close();
      view = new DeviceView(main, id, session, link);
      view.update(store?.devices.find((d) => d.id === id));
    }
    view.show(tab ?? "points");
    for (const a of nav.querySelectorAll("a"))
      a.classList.toggle("selected", a.getAttribute("data-device") === id);
  };
  window.onhashchange = route;
  store.subscribe((devices) => {
    if (!view) route();
    view?.update(devices.find((d) => d.id === view?.device));
  });
}

void boot();
