import { expect, test } from "@playwright/test";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import { createRoom, openHydrated, sentenceWords } from "./helpers";

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

// Issue 21, acceptance 2: the projector follows the room as a viewer, so with one player and the
// projector open the count of players online is 1, on both screens, with its singular.
test("the projector does not count itself as a player", async ({ browser, request }) => {
  const slug = await createRoom(request);
  const playerContext = await browser.newContext();
  const projectorContext = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const player = await playerContext.newPage();
  const projector = await projectorContext.newPage();
  await openHydrated(player, slug);
  await projector.goto(`/r/${slug}/present`);
  await expect(projector.locator("body[data-hydrated]")).toHaveCount(1, { timeout: 15_000 });
  // The projector's stream is open (it shows the words as they land) before the counts are read.
  const response = await request.post(`/api/rooms/${slug}/words`, { data: { text: "Hola" } });
  expect(response.status()).toBe(201);
  await expect(sentenceWords(projector)).toHaveText(["Hola"], { timeout: 2_000 });

  for (const page of [player, projector]) {
    await expect(page.locator("#online")).toHaveText("1");
    await expect(page.locator(".online")).toHaveText(/^1 (persona conectada|person online)$/);
  }
  // A second player is counted; the projector still is not.
  const secondContext = await browser.newContext();
  const second = await secondContext.newPage();
  await openHydrated(second, slug);
  for (const page of [player, projector, second]) {
    await expect(page.locator("#online")).toHaveText("2", { timeout: 3_000 });
  }
  await Promise.all([playerContext, projectorContext, secondContext].map((c) => c.close()));
});
