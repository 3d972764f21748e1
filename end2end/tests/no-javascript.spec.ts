import { expect, test } from "@playwright/test";
import { createRoom, submitWithoutJavaScript } from "./helpers";

// Acceptance 3: with JavaScript off, the form posts to the server function, which answers with a
// 303 back to the room; errors are shown on the page.
test.use({ javaScriptEnabled: false });

test("the word form works without JavaScript", async ({ browser, request }) => {
  const slug = await createRoom(request);
  const players = await Promise.all([0, 1].map(() => browser.newContext({ javaScriptEnabled: false })));
  const [ana, bea] = await Promise.all(players.map((context) => context.newPage()));
  await ana.goto(`/r/${slug}`);
  await bea.goto(`/r/${slug}`);

  const post = async (page: typeof ana, text: string) => {
    await page.locator("form#word-form input[name=text]").fill(text);
    await submitWithoutJavaScript(page, page.locator("form#word-form button[type=submit]"));
  };
  await post(ana, "sin");
  await expect(ana.locator("#sentence .word")).toHaveText(["Sin"]);
  await post(bea, "JavaScript.");
  await expect(bea.locator("#sentence .word")).toHaveCount(0);
  await expect(bea.locator("#story li")).toHaveText(["Sin JavaScript."]);

  // A refused word comes back with a readable message, and nothing is added.
  await post(ana, "dos palabras");
  expect(ana.url()).toContain("error=word-multiple-tokens");
  await expect(ana.locator("#word-error")).toContainText("Solo una palabra");
  await ana.reload();
  await expect(ana.locator("#sentence .word")).toHaveCount(0);
  await Promise.all(players.map((context) => context.close()));
});

// Issue 21: a page that will not run the WebAssembly client does not download it.
test("without JavaScript no page downloads the .wasm", async ({ page, request }) => {
  const slug = await createRoom(request);
  const fetched: string[] = [];
  page.on("request", (sent) => fetched.push(new URL(sent.url()).pathname));
  for (const path of ["/", `/r/${slug}`, `/r/${slug}/present`, `/r/${slug}/story`]) {
    await page.goto(path);
    await page.waitForLoadState("networkidle");
  }
  expect(fetched.filter((path) => path.endsWith(".css")).length, "the pages loaded their styles").toBeGreaterThan(0);
  expect(fetched.filter((path) => path.endsWith(".wasm")), "no .wasm fetched").toEqual([]);
});
