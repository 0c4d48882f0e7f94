/** Templates of the generated package's manifest and build settings. */
import type { ScaffoldNames } from "./names.js";

/** `package.json`: an ESM package whose default export is the adapter definition. */
export function packageJson(n: ScaffoldNames): string {
  const pkg = {
    name: n.packageName,
    version: "0.1.0",
    description: `tagbridge adapter for ${n.type} devices`,
    keywords: ["tagbridge", "tagbridge-adapter"],
    type: "module",
    exports: { ".": { types: "./dist/index.d.ts", default: "./dist/index.js" } },
    files: ["dist", "README.md", "example.yaml"],
    engines: { node: "^22.12.0 || ^24.0.0 || ^26.0.0" },
    scripts: {
      build: "tsc -p tsconfig.build.json",
      typecheck: "tsc --noEmit -p .",
      test: "vitest run",
      prepare: "npm run build",
    },
    peerDependencies: { tagbridge: n.versions.tagbridge, typebox: n.versions.typebox },
    devDependencies: {
      "@types/node": n.versions.typesNode,
      tagbridge: n.versions.tagbridge,
      typebox: n.versions.typebox,
      typescript: n.versions.typescript,
      vitest: n.versions.vitest,
    },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

/** `tsconfig.json`: type-checks sources and tests, emits nothing. */
export function tsconfig(): string {
  const config = {
    compilerOptions: {
      target: "ES2023",
      lib: ["ES2023"],
      module: "NodeNext",
      moduleResolution: "NodeNext",
      types: ["node"],
      strict: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: true,
      declaration: true,
      sourceMap: true,
      noEmit: true,
    },
    include: ["src", "test"],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** `tsconfig.build.json`: emits `src` to `dist`, the files `exports` points at. */
export function tsconfigBuild(): string {
  const config = {
    extends: "./tsconfig.json",
    compilerOptions: { noEmit: false, rootDir: "src", outDir: "dist" },
    include: ["src"],
    exclude: ["**/*.test.ts"],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** `.gitignore`. */
export function gitignore(): string {
  return "node_modules/\ndist/\n";
}
