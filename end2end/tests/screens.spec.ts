import { expect, test } from "@playwright/test";

// Issue 21, acceptance 8: pictures of every screen at a phone's, a laptop's and a projector's
// size, kept with the test run (test-results/…/screens-*.png) to be looked at. Each page must
// also load and hydrate at that size with nothing sticking out sideways.
const SIZES = [
  { width: 390, height: 844 },
  { width: 1280, height: 800 },
  { width: 1920, height: 1080 },
];

const SENTENCE = ["Había", "una", "vez", "un", "dragón", "que", "quería", "cantar"];

for (const size of SIZES) {
  const label = `${size.width}x${size.height}`;
  test(`screens at ${label}`, async ({ browser }, testInfo) => {
    test.setTimeout(90_000);
    // The host: the browser that created the room (its session owns it).
    const hostContext = await browser.newContext({ viewport: size });
    const host = await hostContext.newPage();
    const created = await host.request.post("/api/rooms", { data: { title: "Cuentos de 4.º B", settings: {} } });
    expect(created.status()).toBe(201);
    const slug = (await created.json()).slug as string;
    // Two finished sentences for the story, and an open one; from two players in turn.
    const players = [await browser.newContext(), await browser.newContext()];
    const words = ["El", "sol", "salió.", "La", "luna", "durmió.", ...SENTENCE];
    for (const [index, text] of words.entries()) {
      const response = await players[index % 2].request.post(`/api/rooms/${slug}/words`, { data: { text } });
      expect(response.status(), text).toBe(201);
    }
    const guestContext = await browser.newContext({ viewport: size });
    const guest = await guestContext.newPage();

    const shots: [string, typeof host, string, string | null][] = [
      ["lobby", guest, "/", null],
      ["room", guest, `/r/${slug}`, null],
      ["host-console", host, `/r/${slug}`, "#host-console"],
      ["projector", guest, `/r/${slug}/present`, null],
      ["story", guest, `/r/${slug}/story`, null],
    ];
    for (const [name, page, path, element] of shots) {
      await page.goto(path);
      await expect(page.locator("body[data-hydrated]")).toHaveCount(1, { timeout: 15_000 });
      const sideways = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
      expect(sideways, `${name} at ${label}: nothing sticks out sideways`).toBeLessThanOrEqual(0);
      // Let the words' entrance animation finish.
      await page.waitForTimeout(500);
      const file = testInfo.outputPath(`screens-${name}-${label}.png`);
      if (element) {
        await page.locator(element).screenshot({ path: file });
      } else {
        await page.screenshot({ path: file, fullPage: name !== "projector" });
      }
      await testInfo.attach(`${name} at ${label}`, { path: file, contentType: "image/png" });
    }
    await Promise.all([hostContext, guestContext, ...players].map((context) => context.close()));
  });
}
