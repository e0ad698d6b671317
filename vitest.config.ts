import { fileURLToPath } from "node:url";
import { configDefaults, defineConfig } from "vitest/config";

const fromRoot = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Unit tests import workspace packages from source, so they run without a
// build; integration tests drive the built processes (see test/integration).
const sourceAliases = {
  "@imagegen/shared": fromRoot("./packages/shared/src/index.ts"),
  "@imagegen/storage": fromRoot("./packages/storage/src/index.ts"),
  "@imagegen/simulator": fromRoot("./apps/simulator/src/index.ts"),
  "@imagegen/local-services/testing": fromRoot("./packages/local-services/src/testing.ts"),
  "@imagegen/local-services": fromRoot("./packages/local-services/src/index.ts"),
};

export default defineConfig({
  test: {
    projects: [
      {
        // The console's components, rendered into happy-dom (pure rendering
        // logic; what a person does is tested in Chromium, test/integration).
        resolve: {
          alias: [{ find: "@imagegen/shared/public-api", replacement: fromRoot("./packages/shared/src/public-api/index.ts") }],
        },
        test: {
          name: "console",
          root: fromRoot("./apps/console"),
          include: ["src/**/*.test.tsx", "src/**/*.test.ts"],
          environment: "happy-dom",
        },
      },
      {
        resolve: { alias: sourceAliases },
        test: {
          name: "unit",
          include: ["apps/*/src/**/*.test.ts", "packages/*/src/**/*.test.ts", "test/architecture/**/*.test.ts"],
          // The console's tests run in their own project (happy-dom), once.
          exclude: [...configDefaults.exclude, "apps/console/**"],
          environment: "node",
        },
      },
      {
        resolve: { alias: sourceAliases },
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/integration/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
