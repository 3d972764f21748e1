import { expect, test } from "@playwright/test";
import { addWord, createRoom, openHydrated, sentenceWords } from "./helpers";

// Acceptance 2: three people on one room, adding words in turn through the hydrated page; every
// screen shows the same sentence, in order, within 1 s of each addition, without reloading; a word
// ending in "." ends the sentence and it appears in the story.
test("three players build a sentence together, live", async ({ browser, request }) => {
  const slug = await createRoom(request);
  const contexts = await Promise.all([0, 1, 2].map(() => browser.newContext()));
  const pages = await Promise.all(contexts.map((context) => context.newPage()));
  for (const page of pages) {
    await openHydrated(page, slug);
  }
  // Any reload would drop these markers.
  for (const page of pages) {
    await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));
  }

  const words = ["érase", "una", "vez", "un", "gato", "azul."];
  const shown = ["Érase", "una", "vez", "un", "gato", "azul."];
  for (let i = 0; i < words.length; i++) {
    const writer = pages[i % 3];
    const response = writer.waitForResponse((r) => r.url().endsWith("/api/fn/add_word"));
    await addWord(writer, words[i]);
    expect((await response).status()).toBe(201);
    if (i < words.length - 1) {
      for (const page of pages) {
        await expect(sentenceWords(page)).toHaveText(shown.slice(0, i + 1), { timeout: 1_000 });
      }
    }
  }

  // The last word closed the sentence: it moved to the story on every screen.
  for (const page of pages) {
    await expect(page.locator("#story li")).toHaveText(["Érase una vez un gato azul."], {
      timeout: 1_000,
    });
    await expect(sentenceWords(page)).toHaveCount(0);
    expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(
      true,
    );
  }
  await expect(pages[0].locator("#online")).toHaveText("3");
  await Promise.all(contexts.map((context) => context.close()));
});

// Acceptance 4: the WebAssembly module loaded, and a word added through the server function was
// rendered without a navigation.
test("the page is hydrated by the WebAssembly client", async ({ page, request }) => {
  const slug = await createRoom(request);
  const wasm = page.waitForResponse((r) => r.url().includes("/pkg/") && r.url().endsWith(".wasm"));
  await page.goto(`/r/${slug}`);
  const wasmResponse = await wasm;
  expect(wasmResponse.status()).toBe(200);
  expect(wasmResponse.headers()["content-type"]).toBe("application/wasm");
  await expect(page.locator("body[data-hydrated]")).toHaveCount(1, { timeout: 15_000 });

  let navigations = 0;
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) navigations++;
  });
  const call = page.waitForRequest((r) => r.url().endsWith("/api/fn/add_word") && r.method() === "POST");
  await addWord(page, "hidratada");
  const request_ = await call;
  expect(request_.postData()).toContain("text=hidratada");
  await expect(sentenceWords(page)).toHaveText(["Hidratada"]);
  expect(navigations).toBe(0);
  await expect(page.locator("form#word-form input[name=text]")).toHaveValue("");
});

test("a bad word is refused on the page before it is sent", async ({ page, request }) => {
  const slug = await createRoom(request);
  await openHydrated(page, slug);
  let posted = false;
  page.on("request", (r) => {
    if (r.url().endsWith("/api/fn/add_word")) posted = true;
  });
  await addWord(page, "dos palabras");
  await expect(page.locator("#word-error")).toContainText("Solo una palabra");
  await addWord(page, "<b>");
  await expect(page.locator("#word-error")).toContainText("no se admiten");
  expect(posted).toBe(false);
  await expect(sentenceWords(page)).toHaveCount(0);
});

// Issue 21, acceptance 6: what a phone downloads to play, the .wasm as served (brotli), is at
// most 200 KiB.
const WASM_BR_BUDGET = 200 * 1024;

test("the client's .wasm as served is at most 200 KiB", async ({ page, request }) => {
  const slug = await createRoom(request);
  const wasm = page.waitForResponse((r) => r.url().includes("/pkg/") && r.url().endsWith(".wasm"));
  await page.goto(`/r/${slug}`);
  const url = (await wasm).url();
  const served = await request.get(url, { headers: { "accept-encoding": "br" } });
  expect(served.status()).toBe(200);
  expect(served.headers()["content-encoding"]).toBe("br");
  const length = Number(served.headers()["content-length"]);
  expect(length, `${url}: ${length} bytes as served`).toBeGreaterThan(100_000);
  expect(length, `${url}: ${length} bytes as served`).toBeLessThanOrEqual(WASM_BR_BUDGET);
});

// Pages with nothing live on them have no island: they never download the client.
test("the lobby and the story page download no .wasm", async ({ page, request }) => {
  const slug = await createRoom(request);
  const client: string[] = [];
  page.on("request", (r) => {
    if (r.url().includes("/pkg/")) client.push(r.url());
  });
  for (const path of ["/", `/r/${slug}/story`]) {
    await page.goto(path);
    await expect(page.locator("body[data-hydrated]")).toHaveCount(1);
    await expect(page.locator("leptos-island")).toHaveCount(0);
  }
  // The room's page, for contrast: its island brings the client.
  await openHydrated(page, slug);
  expect(client.filter((url) => url.endsWith(".wasm"))).toHaveLength(1);
  expect(client.filter((url) => url.endsWith(".js"))).toHaveLength(1);
});

test("a bad word only the server can judge is refused with the same message", async ({ page, request }) => {
  // The page checks what needs no Unicode tables (spaces, markup, length of plain text); a
  // character's category it leaves to the server, whose refusal reads the same.
  const slug = await createRoom(request);
  await openHydrated(page, slug);
  const refused = page.waitForResponse((r) => r.url().endsWith("/api/fn/add_word"));
  await addWord(page, "señal@");
  expect((await refused).status()).toBe(422);
  await expect(page.locator("#word-error")).toHaveText("La palabra tiene un carácter no admitido.");
  await expect(sentenceWords(page)).toHaveCount(0);
});

test("words from scripts appear on open pages", async ({ page, request }) => {
  const slug = await createRoom(request, { no_double_turn: false });
  await openHydrated(page, slug);
  for (const text of ["desde", "la", "API"]) {
    const response = await request.post(`/api/rooms/${slug}/words`, { data: { text } });
    expect(response.status()).toBe(201);
  }
  await expect(sentenceWords(page)).toHaveText(["Desde", "la", "API"], { timeout: 1_000 });
});

// Issue 21, acceptance 3: the sentence is text with real spaces between its words (reading or
// copying it gives words, not "Elperroladraba"), and punctuation stays attached to its word.
test("the sentence's text has spaces between its words", async ({ page, request }) => {
  const slug = await createRoom(request, { no_double_turn: false });
  await openHydrated(page, slug);
  for (const text of ["el", "perro", "ladraba", ",", "dijo"]) {
    const response = await request.post(`/api/rooms/${slug}/words`, { data: { text } });
    expect(response.status(), text).toBe(201);
  }
  await expect(sentenceWords(page)).toHaveCount(5, { timeout: 2_000 });
  const text = await page.locator("#sentence").evaluate((element) => (element as HTMLElement).innerText);
  expect(text.trim()).toBe("El perro ladraba, dijo");
  // The same text as the server rendered it, before any script ran.
  const served = await (await request.get(`/r/${slug}`)).text();
  const words = served.match(/<p id="sentence"[\s\S]*?<\/p>/)?.[0] ?? "";
  expect(words.replace(/<[^>]*>/g, "").replace(/\s+/g, " ").trim()).toBe("El perro ladraba, dijo");
});
