import { expect, test } from "@playwright/test";
import { addWord, createRoom, openHydrated, sentenceWords } from "./helpers";

// Issue 10, acceptance 6: the HTTP lens shows the page's POST with its status and the live event
// with its id.
test("the HTTP lens shows the request and the event of a word", async ({ page, request }) => {
  const slug = await createRoom(request);
  await openHydrated(page, slug);
  await page.locator("#http-lens summary").click();
  await addWord(page, "lente");
  await expect(sentenceWords(page)).toHaveText(["Lente"]);

  const post = page.locator('#http-lens .lens-entry[data-method="POST"]').first();
  await expect(post.locator(".target")).toHaveText("/api/fn/add_word");
  await expect(post.locator(".status")).toHaveText("201");
  await expect(post.locator("dt", { hasText: "idempotency-key" })).toHaveCount(1);

  const event = page.locator('#http-lens .lens-entry[data-method="SSE"]', { hasText: "event: word" }).first();
  await expect(event.locator(".status")).toHaveText("id 1");
  await expect(event.locator("dd").first()).toHaveText("1");
});
