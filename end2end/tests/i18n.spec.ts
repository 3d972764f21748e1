import { expect, test, type Page } from "@playwright/test";
import { addWord, createRoom } from "./helpers";

// Issue 12, acceptance 6: a browser that asks for English gets the pages in English; the switch
// at the foot of every page changes the language, and the choice holds for the session.

async function hydrated(page: Page) {
  await expect(page.locator("body[data-hydrated]")).toHaveCount(1, { timeout: 15_000 });
}

test.describe("a browser in English", () => {
  test.use({ locale: "en-US" });

  test("sees English, and the switch to Español holds across pages", async ({ page, request }) => {
    const slug = await createRoom(request);
    await page.goto(`/r/${slug}`);
    await hydrated(page);
    await expect(page.locator("html")).toHaveAttribute("lang", "en");
    await expect(page.locator("label[for=word-input]")).toHaveText("Your word");
    await expect(page.locator("#story-heading")).toHaveText("The story");
    await expect(page.locator("form#word-form button[type=submit]")).toHaveText("Add");

    // The hydrated client speaks the language the server rendered: its own check of a word
    // answers in English, and a good word is added.
    await addWord(page, "two words");
    await expect(page.locator("#word-error")).toHaveText("Just one word, no spaces.");
    await addWord(page, "hello");
    await expect(page.locator("#sentence .word")).toHaveText(["Hello"]);

    // The switch: the page comes back in Spanish.
    const spanish = page.locator("#language-form button[value=es]");
    await expect(spanish).toHaveText("Español");
    await expect(spanish).toHaveAttribute("aria-pressed", "false");
    await spanish.click();
    await expect(page.locator("html")).toHaveAttribute("lang", "es");
    await expect(page.locator("label[for=word-input]")).toHaveText("Tu palabra");
    await expect(page.locator("#sentence .word")).toHaveText(["Hello"]);
    await hydrated(page);
    await expect(page.locator("#language-form button[value=es]")).toHaveAttribute("aria-pressed", "true");

    // Still Spanish on another page, though the browser still asks for English.
    await page.goto("/");
    await hydrated(page);
    await expect(page.locator("html")).toHaveAttribute("lang", "es");
    await expect(page.locator("#join-main")).toHaveText("Entrar en la sala principal");
    await page.goto(`/r/${slug}/present`);
    await expect(page.locator("#join-heading")).toHaveText("Únete desde tu móvil");

    // The API's errors follow the choice too (same cookies as the page).
    const refused = await page.request.post(`/api/rooms/${slug}/words`, {
      data: { text: "dos palabras" },
      headers: { "accept-language": "en-US,en;q=0.9" },
    });
    expect(refused.status()).toBe(422);
    expect((await refused.json()).detail).toBe("Una palabra debe ser un solo término, sin espacios.");

    // And back to English.
    await page.goto("/");
    await page.locator("#language-form button[value=en]").click();
    await expect(page.locator("#join-main")).toHaveText("Join the main room");
  });

  test("the API answers in English", async ({ request }) => {
    const refused = await request.get("/api/rooms/no-such-room", {
      headers: { "accept-language": "en-US,en;q=0.9" },
    });
    expect(refused.status()).toBe(404);
    const problem = await refused.json();
    expect(problem.type).toBe("urn:frase:problem:room-not-found");
    expect(problem.detail).toBe("There is no room `no-such-room`.");
  });
});

test.describe("a browser in Spanish", () => {
  test.use({ locale: "es-ES" });

  test("sees Spanish, and the switch works without JavaScript", async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: false, locale: "es-ES" });
    const page = await context.newPage();
    await page.goto("/");
    await expect(page.locator("html")).toHaveAttribute("lang", "es");
    await expect(page.locator("#join-main")).toHaveText("Entrar en la sala principal");
    await page.locator("#language-form button[value=en]").click();
    await expect(page.locator("html")).toHaveAttribute("lang", "en");
    await expect(page.locator("#join-main")).toHaveText("Join the main room");
    await page.goto("/r/main");
    await expect(page.locator("label[for=word-input]")).toHaveText("Your word");
    await context.close();
  });
});

// Issue 21: the main room's built-in title, the lobby's three lines on how to play and every
// page's meta description, in the reader's language.
for (const [locale, mainTitle, howHeading, description] of [
  ["en-US", "Main room", "How to play", /^frase: a game for classrooms/],
  ["es-ES", "Sala principal", "Cómo se juega", /^frase: un juego para clase/],
] as const) {
  test.describe(`a browser in ${locale}`, () => {
    test.use({ locale });

    test("sees the main room's title, how to play and a description", async ({ page }) => {
      await page.goto("/");
      await expect(page.locator("#how-to-heading")).toHaveText(howHeading);
      await expect(page.locator(".how-to li")).toHaveCount(3);
      await page.goto("/r/main");
      await hydrated(page);
      await expect(page.locator("h1")).toHaveText(mainTitle);
      await expect(page).toHaveTitle(`${mainTitle} · frase`);
      for (const path of ["/", "/r/main", "/r/main/present", "/r/main/story"]) {
        await page.goto(path);
        await expect(page.locator('meta[name="description"]'), path).toHaveAttribute(
          "content",
          description,
        );
      }
    });
  });
}
