/**
 * Builds the web console into `dist/console` (run from the package root:
 * `vite build --config src/console/vite.config.ts`). Plain TypeScript and DOM, uPlot for charts.
 * The output has no inline script, so it runs under the gateway's Content-Security-Policy.
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root,
  // Relative asset URLs, so the console also works behind a proxy that serves it under a prefix.
  base: "./",
  logLevel: "warn",
  build: {
    outDir: fileURLToPath(new URL("../../dist/console", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    // Inlined assets become data: URLs; keep everything a file so the CSP stays 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
});
