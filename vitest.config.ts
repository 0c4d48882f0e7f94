import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "src/**/*.test.ts",
      "adapters/**/*.test.ts",
      "protocols/**/*.test.ts",
      "test/**/*.test.ts",
      "examples/*/test/**/*.test.ts",
    ],
    globalSetup: ["test/setup/link-packages.ts"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
