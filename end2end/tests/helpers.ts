import { expect, type APIRequestContext, type Locator, type Page } from "@playwright/test";

/** Creates a room with the turn rule as given; returns its code. */
export async function createRoom(
  request: APIRequestContext,
  settings: Record<string, unknown> = {},
): Promise<string> {
  const response = await request.post("/api/rooms", {
    data: { title: "e2e", settings },
  });
  expect(response.status()).toBe(201);
  const state = await response.json();
  return state.slug as string;
}

/**
 * Opens a room page and waits until the WebAssembly client has taken it over. Fails if the page's
 * Content-Security-Policy refused anything on the way (console messages of Chromium).
 */
export async function openHydrated(page: Page, slug: string): Promise<void> {
  const violations: string[] = [];
  page.on("console", (message) => {
    if (message.text().includes("Content Security Policy")) violations.push(message.text());
  });
  await page.goto(`/r/${slug}`);
  await expect(page.locator("body[data-hydrated]")).toHaveCount(1, { timeout: 15_000 });
  expect(violations, "CSP violations").toEqual([]);
}

/** The words of the live sentence, as displayed. */
export function sentenceWords(page: Page) {
  return page.locator("#sentence .word");
}

/** Types a word into the room's form and submits it with Enter. */
export async function addWord(page: Page, text: string): Promise<void> {
  const input = page.locator("form#word-form input[name=text]");
  await input.fill(text);
  await input.press("Enter");
}

/**
 * Submits a form of a page without JavaScript by clicking `button`, and waits until the page the
 * server sends back (a 303 to it) has loaded. Waiting for its URL would not do: a room's forms
 * lead back to the room, whose URL the page already has, so `waitForURL` would return at once,
 * on the old page.
 */
export async function submitWithoutJavaScript(page: Page, button: Locator): Promise<void> {
  const posted = page.waitForRequest(
    (request) => request.isNavigationRequest() && request.method() === "POST",
  );
  const loaded = page.waitForEvent("load");
  await button.click();
  await posted;
  await loaded;
}
