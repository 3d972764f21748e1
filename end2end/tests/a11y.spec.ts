import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { createRoom } from "./helpers";

// Issue 12, acceptance 7: axe-core finds no serious or critical violation on the lobby, a room
// (as a guest and as its host) and the projector view.
async function seriousViolations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => `${violation.id} (${violation.impact}): ${violation.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

// One test per page: eight axe runs with their page loads do not fit one test's 30 s on two
// busy cores.
for (const page_ of ["lobby", "room", "projector", "story"] as const) {
  test(`no serious accessibility violations on the ${page_} page`, async ({ page, request }) => {
    const slug = await createRoom(request);
    await request.post(`/api/rooms/${slug}/words`, { data: { text: "hola." } });
    await request.post(`/api/rooms/${slug}/words`, { data: { text: "otra" } });
    const path = { lobby: "/", room: `/r/${slug}`, projector: `/r/${slug}/present`, story: `/r/${slug}/story` }[page_];
    await page.goto(path);
    await expect(page.locator("body[data-hydrated]")).toHaveCount(1, { timeout: 15_000 });
    expect(await seriousViolations(page), path).toEqual([]);
  });
}

test("no serious accessibility violations for the host, with and without turns", async ({ page }) => {
  // The host's page has the console too.
  await page.goto("/");
  await page.locator("#room-title").fill("a11y");
  await page.locator("#create-form button[type=submit]").click();
  await page.waitForURL(/\/r\/[a-z0-9]+$/);
  await expect(page.locator("#host-console")).toBeVisible();
  expect(await seriousViolations(page), "host view").toEqual([]);
  // A round of turns running: the banner and its countdown, on the room and the projector.
  await page.locator("#settings-form select[name=mode]").selectOption("turns");
  await page.locator("#settings-form button[type=submit]").click();
  await page.locator("#round-form button[type=submit]").click();
  await expect(page.locator("#turn-player")).toContainText("¡Te toca!");
  expect(await seriousViolations(page), "host view, turns").toEqual([]);
  await page.goto(`${new URL(page.url()).pathname}/present`);
  await expect(page.locator("#turn-seconds")).toBeVisible();
  expect(await seriousViolations(page), "projector, turns").toEqual([]);
  await page.screenshot({ path: "test-results/present-turns.png" });
});

test("the room works at 320 px wide", async ({ browser, request }) => {
  const slug = await createRoom(request);
  const context = await browser.newContext({ viewport: { width: 320, height: 640 } });
  const page = await context.newPage();
  await page.goto(`/r/${slug}`);
  await expect(page.locator("body[data-hydrated]")).toHaveCount(1, { timeout: 15_000 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, "no horizontal scrolling").toBeLessThanOrEqual(0);
  await expect(page.locator("form#word-form input[name=text]")).toBeVisible();
  await context.close();
});
