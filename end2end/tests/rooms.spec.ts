import { expect, test, type APIRequestContext, type Browser, type Page } from "@playwright/test";
import { addWord, sentenceWords } from "./helpers";

async function hydrated(page: Page) {
  await expect(page.locator("body[data-hydrated]")).toHaveCount(1, { timeout: 15_000 });
}

/** A new room titled `title`, open and hydrated in two players' browsers. */
async function twoPlayers(browser: Browser, request: APIRequestContext, title: string) {
  const response = await request.post("/api/rooms", { data: { title } });
  const slug = (await response.json()).slug as string;
  const contexts = await Promise.all([0, 1].map(() => browser.newContext()));
  const pages = await Promise.all(contexts.map((context) => context.newPage()));
  for (const page of pages) {
    await page.goto(`/r/${slug}`);
    await hydrated(page);
  }
  return { slug, contexts, pages };
}

// Issue 12, acceptance 1: a host creates a room from the lobby, two guests join by its code and
// play; the host removes a word and locks the room; both guests see each change live, and the
// locked room refuses words with a clear message.
test("a host runs a room that guests join by code", async ({ browser }) => {
  const contexts = await Promise.all([0, 1, 2].map(() => browser.newContext()));
  const [host, ana, bea] = await Promise.all(contexts.map((context) => context.newPage()));

  await host.goto("/");
  await hydrated(host);
  await host.locator("#room-title").fill("Clase de prueba");
  await host.locator("#create-form button[type=submit]").click();
  await host.waitForURL(/\/r\/[a-z0-9]+$/);
  const slug = new URL(host.url()).pathname.split("/").pop()!;
  await expect(host.locator("h1")).toHaveText("Clase de prueba");
  await expect(host.locator("#host-console")).toBeVisible();

  for (const guest of [ana, bea]) {
    await guest.goto("/");
    await guest.locator("#room-code").fill(slug);
    await guest.locator("#join-form button[type=submit]").click();
    await guest.waitForURL(new RegExp(`/r/${slug}$`));
    await hydrated(guest);
    await expect(guest.locator("#host-console"), "guests have no host controls").toHaveCount(0);
  }
  await hydrated(host);

  // The host renames the room: every screen follows.
  await host.locator("#settings-title").fill("Clase renombrada");
  await host.locator("#settings-form button[type=submit]").click();
  for (const page of [host, ana, bea]) {
    await expect(page.locator("h1")).toHaveText("Clase renombrada", { timeout: 2_000 });
  }

  await addWord(ana, "había");
  await expect(sentenceWords(bea)).toHaveText(["Había"]);
  await addWord(bea, "una");
  // Committed before Ana plays again: sent at once, her "vez" could reach the server first, and
  // be refused as her second word in a row (seen in CI, bea's POST taking 614 ms).
  await expect(sentenceWords(ana)).toHaveText(["Había", "una"]);
  await addWord(ana, "vez");
  for (const page of [host, ana, bea]) {
    await expect(sentenceWords(page)).toHaveText(["Había", "una", "vez"]);
  }

  // The host removes "una": gone on every screen.
  await host.locator("#remove-word").selectOption({ label: "una" });
  await host.locator("#remove-form button[type=submit]").click();
  for (const page of [host, ana, bea]) {
    await expect(sentenceWords(page)).toHaveText(["Había", "vez"], { timeout: 2_000 });
  }

  // The host locks the room: every screen says so, and a word is refused with a message.
  await host.locator("#lock-form button[type=submit]").click();
  for (const page of [ana, bea]) {
    await expect(page.locator("#room-locked")).toBeVisible({ timeout: 2_000 });
  }
  await addWord(bea, "luego");
  await expect(bea.locator("#word-error")).toContainText("cerrada");
  await expect(sentenceWords(ana)).toHaveText(["Había", "vez"]);

  // The host fixes any word, then clears the sentence: every screen follows.
  await host.locator("#fix-word").selectOption({ label: "vez" });
  await host.locator("#fix-form input[name=text]").fill("voz");
  await host.locator("#fix-form button[type=submit]").click();
  for (const page of [host, ana, bea]) {
    await expect(sentenceWords(page)).toHaveText(["Había", "voz"], { timeout: 2_000 });
  }
  // Clearing cannot be undone: it takes two steps, open, then confirm.
  await expect(host.locator("#clear-form button[type=submit]")).toBeHidden();
  await host.locator("#clear-confirm summary").click();
  await host.locator("#clear-form button[type=submit]").click();
  for (const page of [host, ana, bea]) {
    await expect(sentenceWords(page)).toHaveCount(0, { timeout: 2_000 });
  }
  await Promise.all(contexts.map((context) => context.close()));
});

test("without JavaScript the lobby creates a room too", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/");
  await page.locator("#room-title").fill("Sin JS");
  await Promise.all([
    page.waitForURL(/\/r\/[a-z0-9]+$/),
    page.locator("#create-form button[type=submit]").click(),
  ]);
  await expect(page.locator("h1")).toHaveText("Sin JS");
  await expect(page.locator("#host-console")).toBeVisible();
  await context.close();
});

// An author fixes a typo in their last word, then undoes it; the others see both live.
test("an author fixes and undoes their own word", async ({ browser, request }) => {
  const { contexts, pages: [ana, bea] } = await twoPlayers(browser, request, "typo");
  await addWord(ana, "gatto");
  await expect(sentenceWords(bea)).toHaveText(["Gatto"]);
  await expect(ana.locator("#my-word")).toBeVisible();
  await expect(bea.locator("#my-word"), "only the author gets the controls").toHaveCount(0);

  await ana.locator("#fix-text").fill("gato");
  await ana.locator("#my-fix-form button[type=submit]").click();
  for (const page of [ana, bea]) {
    await expect(sentenceWords(page)).toHaveText(["Gato"], { timeout: 2_000 });
  }
  await ana.locator("#undo-form button[type=submit]").click();
  for (const page of [ana, bea]) {
    await expect(sentenceWords(page)).toHaveCount(0, { timeout: 2_000 });
  }
  await expect(ana.locator("#my-word")).toHaveCount(0);
  await Promise.all(contexts.map((context) => context.close()));
});

// The name form, with JavaScript: a name the page can judge is refused before it is sent; a good
// one is sent (with an Idempotency-Key) and shown without a navigation, and the author's next word
// carries it to the others.
test("a player renames themself on the page", async ({ browser, request }) => {
  const { contexts, pages: [ana, bea] } = await twoPlayers(browser, request, "names");
  let navigations = 0;
  ana.on("framenavigated", (frame) => {
    if (frame === ana.mainFrame()) navigations++;
  });
  const sent: string[] = [];
  ana.on("request", (r) => {
    if (r.url().endsWith("/api/fn/set_name")) sent.push(r.headers()["idempotency-key"] ?? "");
  });

  await ana.locator("#name-input").fill("<b>Ana</b>");
  await ana.locator("#name-form button[type=submit]").click();
  await expect(ana.locator("#name-form .error")).not.toBeEmpty();
  expect(sent, "refused on the page, never sent").toEqual([]);

  await ana.locator("#name-input").fill("Ana la bibliotecaria");
  await ana.locator("#name-form button[type=submit]").click();
  await expect(ana.locator("#my-name")).toHaveText("Ana la bibliotecaria");
  await expect(ana.locator("#name-form .error")).toBeEmpty();
  expect(sent).toHaveLength(1);
  expect(sent[0]).toMatch(/^[0-9a-f]{32}$/);
  expect(navigations).toBe(0);

  await addWord(ana, "hola");
  await expect(sentenceWords(bea)).toHaveText(["Hola"]);
  await expect(sentenceWords(bea).first()).toHaveAttribute("data-author", "Ana la bibliotecaria");
  await Promise.all(contexts.map((context) => context.close()));
});
