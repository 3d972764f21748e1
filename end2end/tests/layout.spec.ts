import { expect, request as playwrightRequest, test, type Browser, type Page } from "@playwright/test";
import { createRoom, openHydrated, sentenceWords } from "./helpers";

// Issue 21: the screens hold up as a sentence grows: the projector is always one screen, the room
// page keeps its input in view and does not jump while words land, the sentence is one tab stop.

/** Long words, as a class that tries to break the screen would send them. */
const LONG_WORDS = [
  "Electroencefalograma", "otorrinolaringólogos", "desafortunadamente", "extraordinariamente",
  "internacionalización", "responsabilidades", "constitucionalmente", "paralelepípedos",
  "esternocleidomastoideo", "anticonstitucionalmente", "electrodomésticos", "incomprensiblemente",
  "desoxirribonucleico",
];

/** `count` words of `LONG_WORDS`, in turn. */
function longSentence(count: number): string[] {
  return Array.from({ length: count }, (_, index) => LONG_WORDS[index % LONG_WORDS.length]);
}

/**
 * Adds `words` to a room through the JSON API, from `writers` people taking turns (each its own
 * session: a person may add 30 words a minute, and not two in a row).
 */
async function addWordsFromOthers(slug: string, words: string[], writers = 2, pauseMs = 0) {
  const baseURL = test.info().project.use.baseURL;
  const people = await Promise.all(
    Array.from({ length: writers }, () => playwrightRequest.newContext({ baseURL })),
  );
  for (const [index, text] of words.entries()) {
    const response = await people[index % writers].post(`/api/rooms/${slug}/words`, { data: { text } });
    expect(response.status(), `word ${index + 1} (${text})`).toBe(201);
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  await Promise.all(people.map((person) => person.dispose()));
}

async function openAt(browser: Browser, size: { width: number; height: number }, path: string) {
  const context = await browser.newContext({ viewport: size });
  const page = await context.newPage();
  await page.goto(path);
  await expect(page.locator("body[data-hydrated]")).toHaveCount(1, { timeout: 15_000 });
  return { context, page };
}

/** The box of the last element `selector` matches, and whether it lies wholly inside the viewport. */
async function boxInView(page: Page, selector: string) {
  return page.locator(selector).last().evaluate((element) => {
    const box = element.getBoundingClientRect();
    return {
      top: box.top,
      bottom: box.bottom,
      left: box.left,
      right: box.right,
      width: box.width,
      height: box.height,
      inView: box.top >= 0 && box.left >= 0 && box.bottom <= innerHeight && box.right <= innerWidth,
    };
  });
}

// Acceptance 1.
test("the projector view fits the screen with a 39-word sentence of long words", async ({ browser, request }, testInfo) => {
  test.setTimeout(90_000);
  const slug = await createRoom(request, { no_double_turn: false });
  const words = longSentence(39);
  await addWordsFromOthers(slug, words);
  for (const size of [
    { width: 1024, height: 768 },
    { width: 1280, height: 720 },
    { width: 1920, height: 1080 },
  ]) {
    const label = `${size.width}x${size.height}`;
    const { context, page } = await openAt(browser, size, `/r/${slug}/present`);
    await expect(sentenceWords(page)).toHaveCount(39);

    const scroll = await page.evaluate(() => ({
      height: document.documentElement.scrollHeight - innerHeight,
      width: document.documentElement.scrollWidth - innerWidth,
    }));
    expect(scroll, `${label}: no page scroll`).toEqual({ height: 0, width: 0 });

    const newest = await boxInView(page, "#sentence .word");
    const box = await boxInView(page, ".sentence-box");
    expect(newest.inView, `${label}: the newest word in view`).toBe(true);
    expect(newest.bottom, `${label}: the newest word inside the sentence's box`).toBeLessThanOrEqual(box.bottom + 1);
    expect(newest.top).toBeGreaterThanOrEqual(box.top - 1);

    const qr = await boxInView(page, "#join-qr svg");
    expect(qr.inView, `${label}: the whole QR code in view`).toBe(true);
    expect(Math.min(qr.width, qr.height), `${label}: the QR code's side`).toBeGreaterThanOrEqual(120);
    expect((await boxInView(page, "#join-code")).inView, `${label}: the room code in view`).toBe(true);
    await expect(page.locator("#join-code")).toHaveText(slug);

    // No word split across lines: each is one line of its own type, as wide as the box at most.
    const split = await page.locator("#sentence .word").evaluateAll((elements) =>
      elements
        .filter((element) => {
          const box = element.getBoundingClientRect();
          const lineHeight = parseFloat(getComputedStyle(element.parentElement!).lineHeight);
          const panel = element.closest(".sentence-box")!.getBoundingClientRect();
          return box.height > lineHeight * 1.5 || box.right > panel.right + 1;
        })
        .map((element) => element.textContent),
    );
    expect(split, `${label}: words broken across lines or cut`).toEqual([]);

    const fontSize = await page.locator("#sentence").evaluate((element) => parseFloat(getComputedStyle(element).fontSize));
    expect(fontSize, `${label}: the type is still readable`).toBeGreaterThanOrEqual(20);

    const screenshot = testInfo.outputPath(`present-39-words-${label}.png`);
    await page.screenshot({ path: screenshot });
    await testInfo.attach(`projector, 39 long words, ${label}`, { path: screenshot, contentType: "image/png" });
    await context.close();
  }
});

// Acceptance 5.
test("with a 39-word sentence the word input is in view without scrolling", async ({ browser, request }, testInfo) => {
  test.setTimeout(60_000);
  const slug = await createRoom(request, { no_double_turn: false });
  await addWordsFromOthers(slug, longSentence(39));
  for (const size of [
    { width: 1280, height: 800 },
    { width: 390, height: 844 },
  ]) {
    const label = `${size.width}x${size.height}`;
    const { context, page } = await openAt(browser, size, `/r/${slug}`);
    await expect(sentenceWords(page)).toHaveCount(39);
    expect(await page.evaluate(() => scrollY), "the page is not scrolled").toBe(0);
    expect((await boxInView(page, "#word-input")).inView, `${label}: the word input in view`).toBe(true);
    expect((await boxInView(page, "#word-form button[type=submit]")).inView, `${label}: its button too`).toBe(true);
    // The sentence's box shows its newest word.
    const newest = await boxInView(page, "#sentence .word");
    const box = await boxInView(page, ".sentence-box");
    expect(newest.inView && newest.bottom <= box.bottom + 1, `${label}: the newest word in view`).toBe(true);
    const screenshot = testInfo.outputPath(`room-39-words-${label}.png`);
    await page.screenshot({ path: screenshot });
    await context.close();
  }
});

// Acceptance 4.
for (const size of [
  { width: 1280, height: 800 },
  { width: 390, height: 844 },
]) {
  test(`the room page does not jump while 24 words arrive (${size.width}x${size.height})`, async ({ browser, request }) => {
    test.setTimeout(60_000);
    const slug = await createRoom(request);
    await addWordsFromOthers(slug, ["Había", "una", "vez"]);
    const { context, page } = await openAt(browser, size, `/r/${slug}`);
    // The player adds a word (so that their undo panel shows, and goes when the next word lands).
    await page.locator("#word-input").fill("un");
    await page.locator("#word-input").press("Enter");
    await expect(page.locator("#my-word")).toBeVisible();
    await expect(page.locator("#wait-hint")).toBeVisible();
    await page.waitForTimeout(700);
    await page.evaluate(() => {
      const shifts: { value: number; sources: string[] }[] = [];
      (window as unknown as { shifts: typeof shifts }).shifts = shifts;
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries() as unknown as {
          value: number;
          hadRecentInput: boolean;
          sources: { node?: Element }[];
        }[]) {
          if (entry.hadRecentInput) continue;
          shifts.push({
            value: entry.value,
            sources: entry.sources.map((source) =>
              source.node ? `${source.node.nodeName}#${source.node.id}.${source.node.className}` : "?",
            ),
          });
        }
      }).observe({ type: "layout-shift" });
    });
    const others = [
      "dragón", "que", "quería", "aprender", "a", "cantar", "pero", "cada", "vez", "que", "abría",
      "la", "boca", "salía", "fuego", "y", "los", "vecinos", "corrían", "asustados", "hasta", "el",
      "río", "cercano",
    ];
    await addWordsFromOthers(slug, others, 2, 150);
    await expect(sentenceWords(page)).toHaveCount(28);
    await expect(page.locator("#my-word")).toHaveCount(0);
    await page.waitForTimeout(600);
    const shifts = await page.evaluate(() => (window as unknown as { shifts: { value: number; sources: string[] }[] }).shifts);
    const cumulative = shifts.reduce((sum, shift) => sum + shift.value, 0);
    expect(cumulative, `layout shifts: ${JSON.stringify(shifts)}`).toBeLessThanOrEqual(0.05);
    await context.close();
  });
}

test("the sentence is one tab stop, walked with the arrow keys", async ({ page, request }) => {
  const slug = await createRoom(request, { no_double_turn: false });
  await addWordsFromOthers(slug, ["Uno", "dos", "tres", "cuatro"]);
  await openHydrated(page, slug);
  await expect(sentenceWords(page)).toHaveCount(4);
  await expect(page.locator('#sentence [tabindex="0"]')).toHaveText(["cuatro"]);

  await page.locator("#sentence .word").last().focus();
  const focused = () => page.evaluate(() => document.activeElement?.textContent);
  await page.keyboard.press("ArrowLeft");
  expect(await focused()).toBe("tres");
  await page.keyboard.press("Home");
  expect(await focused()).toBe("Uno");
  await page.keyboard.press("ArrowRight");
  expect(await focused()).toBe("dos");
  await page.keyboard.press("End");
  expect(await focused()).toBe("cuatro");
  // Its author shows on focus.
  const author = await page.evaluate(() => getComputedStyle(document.activeElement!, "::after").content);
  expect(author).not.toBe("none");
  // From the sentence, one Tab reaches the word input.
  await page.keyboard.press("Tab");
  expect(await page.evaluate(() => document.activeElement?.id)).toBe("word-input");
  // A new word is the new tab stop.
  await addWordsFromOthers(slug, ["cinco"], 1);
  await expect(page.locator('#sentence [tabindex="0"]')).toHaveText(["cinco"]);
});

test("the host console: projector link first, readable controls, pickers that keep their width", async ({ page }) => {
  const created = await page.request.post("/api/rooms", { data: { title: "consola", settings: {} } });
  expect(created.status()).toBe(201);
  const slug = (await created.json()).slug as string;
  await page.setViewportSize({ width: 1280, height: 800 });
  await openHydrated(page, slug);
  const console_ = page.locator("#host-console");
  await expect(console_).toBeVisible();
  // The teacher's key action opens the projector, at the top of the console.
  const link = page.locator("#host-present-link");
  await expect(link).toHaveAttribute("href", `/r/${slug}/present`);
  const linkBox = (await link.boundingBox())!;
  for (const form of ["#settings-form", "#lock-form", "#remove-form"]) {
    expect(linkBox.y, `the projector link is above ${form}`).toBeLessThan((await page.locator(form).boundingBox())!.y);
  }
  // With no words yet, the word pickers keep a usable width.
  for (const picker of ["#remove-word", "#fix-word"]) {
    expect((await page.locator(picker).boundingBox())!.width, picker).toBeGreaterThanOrEqual(120);
  }
  // Controls at a readable size.
  const sizes = await console_.locator("input:not([type=hidden]), select, button").evaluateAll((elements) =>
    elements.filter((e) => (e as HTMLElement).offsetParent !== null).map((e) => parseFloat(getComputedStyle(e).fontSize)),
  );
  expect(Math.min(...sizes), "the smallest control's type").toBeGreaterThanOrEqual(16);
  // Destructive actions are set apart and take two steps.
  await expect(page.locator("#delete-form button[type=submit]")).toBeHidden();
  await expect(page.locator("#clear-form button[type=submit]")).toBeHidden();
  await page.locator("#delete-confirm summary").click();
  await expect(page.locator("#delete-form button[type=submit]")).toBeVisible();
  await expect(page.locator("#delete-form button[type=submit]")).toHaveClass(/danger/);

  // A refused action says why; the next one that succeeds clears the message.
  expect((await page.request.post(`/api/rooms/${slug}/words`, { data: { text: "hola" } })).status()).toBe(201);
  await expect(page.locator("#fix-word option")).toHaveText(["Hola"]);
  await page.locator("#fix-form input[name=text]").fill("dos palabras");
  await page.locator("#fix-form button[type=submit]").click();
  await expect(page.locator("#host-error")).not.toBeEmpty();
  await page.locator("#lock-form button[type=submit]").click();
  await expect(page.locator("#lock-form button[type=submit]")).toHaveAttribute("aria-pressed", "true");
  await expect(page.locator("#host-error")).toBeEmpty();
  // Deleting the room leads back to the lobby.
  await page.locator("#delete-form button[type=submit]").click();
  await page.waitForURL((url) => url.pathname === "/");
  expect((await page.request.get(`/api/rooms/${slug}`)).status()).toBe(404);
});
