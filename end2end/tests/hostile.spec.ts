import { expect, test, type Page } from "@playwright/test";
import { createRoom, openHydrated, submitWithoutJavaScript } from "./helpers";

// Issue 11, acceptance 1: hostile words are data, never markup. They arrive through the JSON API
// (no client checks at all), the server function and the form without JavaScript; every one is
// refused (422) or shown as text, no script runs and our pages report no CSP violation.
const payloads = [
  "<img/src/onerror=alert(1)>",
  "<script>alert(1)</script>",
  "<svg/onload=alert(1)>",
  '"><img/src/onerror=alert(1)>',
  "'onmouseover='alert(1)",
  "javascript:alert(1)",
  "&lt;b&gt;",
  "{{7*7}}",
  "${alert(1)}",
  "hola\u202Eadiós",
  "\u0000<b>",
  // Accepted, and dangerous if they were ever put into markup unescaped:
  '"script"',
  '"onerror"',
  "l'onerror",
  "(img)",
  "«script»",
];

/** Records what must never happen on a page: a dialog, a page error, a CSP report. */
function watch(page: Page): string[] {
  const incidents: string[] = [];
  page.on("dialog", (dialog) => {
    incidents.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on("pageerror", (error) => incidents.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) incidents.push(message.text());
  });
  return incidents;
}

test("hostile words are refused or shown as text, and never run", async ({ browser, page, request }) => {
  const slug = await createRoom(request, { no_double_turn: false });
  const incidents = watch(page);
  await openHydrated(page, slug);

  const accepted: string[] = [];
  const record = async (how: string, payload: string, status: number, body: () => Promise<any>) => {
    expect([201, 422], `${how} ${JSON.stringify(payload)}: ${status}`).toContain(status);
    if (status === 201) accepted.push((await body()).text as string);
  };

  // 1. The JSON API, bypassing every client-side check.
  for (const payload of payloads) {
    const response = await request.post(`/api/rooms/${slug}/words`, { data: { text: payload } });
    await record("API", payload, response.status(), () => response.json());
  }
  // 2. The server function, as the client would call it but with no client checks (as the
  // page's own user: each user has a rate limit of its own).
  for (const payload of payloads) {
    const response = await page.request.post("/api/fn/add_word", {
      form: { room: slug, text: payload },
      headers: { accept: "application/json" },
    });
    await record("server fn", payload, response.status(), () => response.json());
  }
  // 3. The page's form with JavaScript off (the browser posts it; the server answers 303).
  const noScript = await browser.newContext({ javaScriptEnabled: false });
  const plain = await noScript.newPage();
  const plainIncidents = watch(plain);
  for (const payload of payloads.slice(0, 4)) {
    await plain.goto(`/r/${slug}`);
    await plain.locator("form#word-form input[name=text]").fill(payload);
    await submitWithoutJavaScript(plain, plain.locator("form#word-form button[type=submit]"));
    // Refused: a readable message on the page, never the payload as markup.
    if (plain.url().includes("error=")) {
      await expect(plain.locator("#word-error")).not.toBeEmpty();
    }
  }

  expect(accepted.length, "some hostile-looking words are valid words").toBeGreaterThan(0);
  // Whatever was accepted is text on the live page, on a fresh server render, and without
  // JavaScript; no element came from a word.
  const shownText = async (target: Page) =>
    (((await target.locator("#sentence").textContent()) ?? "") +
      ((await target.locator("#story").textContent()) ?? "")).toLowerCase();
  const expectText = async (target: Page) => {
    await expect
      .poll(async () => {
        const text = await shownText(target);
        return accepted.filter((word) => !text.includes(word.toLowerCase()));
      }, { timeout: 2_000 })
      .toEqual([]);
    await expect(target.locator("#sentence img, #sentence script, #sentence svg, #story img")).toHaveCount(0);
  };
  await expectText(page);
  await page.reload();
  await expect(page.locator("body[data-hydrated]")).toHaveCount(1, { timeout: 15_000 });
  await expectText(page);
  await plain.goto(`/r/${slug}`);
  await expectText(plain);
  // Let any stray handler fire before concluding nothing ran.
  await page.waitForTimeout(500);
  expect(incidents).toEqual([]);
  expect(plainIncidents).toEqual([]);
  await noScript.close();
});
