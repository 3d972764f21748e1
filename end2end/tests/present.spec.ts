import { expect, test } from "@playwright/test";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import { createRoom, sentenceWords } from "./helpers";

// Issue 12, acceptances 2 and 3: the projector view follows the room live; a 1920x1080 screenshot
// is kept with the test run (test-results/present-1920x1080.png) and shows the sentence, the join
// URL and the QR code, which decodes to that URL.
test("the present view follows the room and its QR code opens it", async ({ browser, request }, testInfo) => {
  const slug = await createRoom(request, { no_double_turn: false });
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  const page = await context.newPage();
  await page.goto(`/r/${slug}/present`);
  await expect(page.locator("body[data-hydrated]")).toHaveCount(1, { timeout: 15_000 });

  for (const text of ["Todos", "miran", "la", "pantalla"]) {
    const response = await request.post(`/api/rooms/${slug}/words`, { data: { text } });
    expect(response.status()).toBe(201);
  }
  await expect(sentenceWords(page)).toHaveText(["Todos", "miran", "la", "pantalla"], { timeout: 2_000 });

  const joinUrl = (await page.locator("#join-url").textContent())?.trim() ?? "";
  expect(joinUrl).toMatch(new RegExp(`^https?://[^/]+/r/${slug}$`));
  await expect(page.locator("#join-qr svg")).toBeVisible();

  // Let the newest word's entrance animation finish before the picture.
  await page.waitForTimeout(800);
  const screenshot = testInfo.outputPath("present-1920x1080.png");
  await page.screenshot({ path: screenshot, fullPage: false });
  await testInfo.attach("present view at 1920x1080", { path: screenshot, contentType: "image/png" });

  // The QR code, as a camera would see it on the screen.
  const png = PNG.sync.read(await page.locator("#join-qr").screenshot());
  const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  expect(decoded?.data, "the QR code decodes").toBe(joinUrl);

  // And the link works: it is the room.
  const room = await request.get(joinUrl);
  expect(room.status()).toBe(200);
  await context.close();
});

test("the room page shows the join link and its QR code", async ({ page, request }) => {
  const slug = await createRoom(request);
  await page.goto(`/r/${slug}`);
  const joinUrl = (await page.locator("#join-url").textContent())?.trim() ?? "";
  expect(joinUrl.endsWith(`/r/${slug}`)).toBe(true);
  const png = PNG.sync.read(await page.locator("#join-qr").screenshot());
  const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  expect(decoded?.data).toBe(joinUrl);
});
