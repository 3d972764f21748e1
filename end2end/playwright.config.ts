// End-to-end tests against the real release binary (`target/release/frase`), started here on its
// own port with a throwaway data directory, driven through Debian's Chromium (never a downloaded
// browser: this machine reaches only package registries).
import { defineConfig } from "@playwright/test";
import { chromiumLaunchOptions } from "./chromium";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const port = Number(process.env.FRASE_E2E_PORT ?? 3917);
const baseURL = `http://127.0.0.1:${port}`;
const binary = resolve(__dirname, "..", "target", "release", "frase");
// Evaluated in every worker too; only the main process starts the server, so only its directory
// is used.
const dataDir = process.env.FRASE_E2E_DATA_DIR ?? mkdtempSync(join(tmpdir(), "frase-e2e-"));
process.env.FRASE_E2E_DATA_DIR = dataDir;

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 5_000 },
  fullyParallel: true,
  // Two cores: two browsers at a time.
  workers: 2,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    baseURL,
    // The specs read the app's Spanish (its default); Chromium would otherwise ask for en-US.
    // `i18n.spec.ts` sets another locale where it needs one.
    locale: "es-ES",
    trace: "retain-on-failure",
    launchOptions: chromiumLaunchOptions,
  },
  webServer: {
    command: `${binary} serve --addr 127.0.0.1:${port} --data-dir ${dataDir}`,
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "ignore",
    stderr: "pipe",
    env: { RUST_LOG: "warn" },
  },
});
