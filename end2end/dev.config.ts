// The development loop (`make test-dev`): `make dev` runs in a throwaway copy of the repository
// (started by scripts/test-dev.sh, which passes its address and folder), and this spec edits that
// copy's files the way a developer would, watching the open page follow.
import { defineConfig } from "@playwright/test";
import { chromiumLaunchOptions } from "./chromium";

export default defineConfig({
  testDir: "./dev",
  // The first build of a cold copy takes minutes; each rebuild a minute or two on two cores.
  timeout: 40 * 60_000,
  expect: { timeout: 10_000 },
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  outputDir: "test-results/dev",
  use: {
    baseURL: process.env.FRASE_DEV_BASE,
    locale: "es-ES",
    trace: "retain-on-failure",
    launchOptions: chromiumLaunchOptions,
  },
});
