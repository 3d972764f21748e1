// `make dev` serves the app, and every saved change reaches the open page: a stylesheet swaps in
// place, a change to Rust code rebuilds and reloads it. Run by scripts/test-dev.sh.
import { expect, test, type Page } from "@playwright/test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const copy = process.env.FRASE_DEV_COPY ?? "";

/** Replaces `anchor` (which must be there) in a file of the throwaway copy. */
function edit(file: string, anchor: string, replacement: string): void {
  const path = join(copy, file);
  const text = readFileSync(path, "utf8");
  if (!text.includes(anchor)) throw new Error(`${file} no longer contains ${anchor}: update this test`);
  writeFileSync(path, text.replace(anchor, replacement));
}

/** Marks the document: the mark is gone once the page has been reloaded. */
async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => ((window as unknown as { frase_same_document: boolean }).frase_same_document = true));
}

function sameDocument(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { frase_same_document?: boolean }).frase_same_document === true);
}

test("make dev serves, swaps the stylesheet and reloads on a Rust change", async ({ page, request }) => {
  expect(copy, "FRASE_DEV_COPY names the throwaway copy").not.toBe("");
  const started = Date.now();
  await expect
    .poll(async () => (await request.get("/r/main").catch(() => null))?.status() ?? 0, {
      timeout: 35 * 60_000,
      intervals: [2_000],
    })
    .toBe(200);
  console.log(`first answer of /r/main after ${((Date.now() - started) / 1000).toFixed(0)} s`);

  await page.goto("/r/main");
  await expect(page.locator("body[data-hydrated]")).toHaveCount(1, { timeout: 60_000 });
  // Development pages carry Leptos' reload script (a release never does: tests/http.rs).
  expect(await page.content()).toContain("/live_reload");
  await markDocument(page);

  // The stylesheet: a changed rule restyles the open page, which is not reloaded.
  const outline = () => page.evaluate(() => getComputedStyle(document.body).outlineColor);
  expect(await outline()).not.toBe("rgb(1, 2, 3)");
  const cssSaved = Date.now();
  writeFileSync(
    join(copy, "style/main.css"),
    readFileSync(join(copy, "style/main.css"), "utf8") + "\nbody { outline: 3px solid rgb(1, 2, 3); }\n",
  );
  await expect.poll(outline, { timeout: 5 * 60_000 }).toBe("rgb(1, 2, 3)");
  console.log(`stylesheet swapped ${Date.now() - cssSaved} ms after saving style/main.css`);
  expect(await sameDocument(page), "the page was restyled in place, not reloaded").toBe(true);

  // Rust: new text on a page rebuilds the client and the server and reloads the open page.
  const rsSaved = Date.now();
  edit("src/app.rs", "<LanguageSwitch/>", '<LanguageSwitch/><p id="dev-reloaded">"Recargado en vivo"</p>');
  await expect(page.locator("#dev-reloaded")).toHaveText("Recargado en vivo", { timeout: 30 * 60_000 });
  console.log(`page reloaded with the new text ${((Date.now() - rsSaved) / 1000).toFixed(1)} s after saving src/app.rs`);
  expect(await sameDocument(page), "a Rust change reloads the page").toBe(false);
  await expect(page.locator("body[data-hydrated]")).toHaveCount(1, { timeout: 60_000 });
  // The stylesheet change is still in force after the rebuild.
  expect(await outline()).toBe("rgb(1, 2, 3)");
});
