import { expect, test, type BrowserContext, type Page } from "@playwright/test";
import { addWord, sentenceWords } from "./helpers";

async function hydrated(page: Page) {
  await expect(page.locator("body[data-hydrated]")).toHaveCount(1, { timeout: 15_000 });
}

interface Player {
  context: BrowserContext;
  page: Page;
  id: string;
  name: string;
}

// Issue 12, acceptance 5: `turns` mode with three players. The host sets the mode and starts a
// round; the drawn order is followed, a word out of turn gets 409, a player who waits out
// `turn_seconds` (5 s here, the lowest allowed) is skipped, and every screen shows whose turn it is.
test("turns: the order is kept, out of turn is refused, who waits is skipped", async ({ browser }) => {
  test.setTimeout(90_000);
  const players: Player[] = [];
  for (const name of ["Profe", "Ana", "Bea"]) {
    const context = await browser.newContext();
    const me = await context.request.patch("/api/me", { data: { name } });
    expect(me.status()).toBe(200);
    players.push({ context, page: await context.newPage(), id: (await me.json()).id, name });
  }
  const [host, ...guests] = players;
  const created = await host.context.request.post("/api/rooms", { data: { title: "Por turnos" } });
  expect(created.status()).toBe(201);
  const slug = (await created.json()).slug as string;

  // The host switches the room to turns, 5 s each, from the console.
  await host.page.goto(`/r/${slug}`);
  await hydrated(host.page);
  await host.page.locator("#settings-form select[name=mode]").selectOption("turns");
  await host.page.locator("#settings-form input[name=turn_seconds]").fill("5");
  await host.page.locator("#settings-form button[type=submit]").click();
  await expect(host.page.locator("#turn-player")).toContainText("anfitrión");
  for (const guest of guests) {
    await guest.page.goto(`/r/${slug}`);
    await hydrated(guest.page);
    await expect(guest.page.locator("#turn-player")).toContainText("anfitrión");
  }
  // Everyone is here (the online count says three) before the round is drawn.
  await expect(host.page.locator("#online")).toHaveText("3");

  await host.page.locator("#round-form button[type=submit]").click();
  const byId = (id: string | null) => {
    const player = players.find((p) => p.id === id);
    expect(player, `the turn is a player's (${id})`).toBeDefined();
    return player!;
  };
  /** Whose turn it is, once every screen agrees on it; checks what each screen says. */
  async function currentPlayer(after?: string): Promise<Player> {
    const turn = host.page.locator("#turn");
    if (after) await expect(turn).not.toHaveAttribute("data-user", after, { timeout: 10_000 });
    await expect(turn).not.toHaveAttribute("data-user", "");
    const current = byId(await turn.getAttribute("data-user"));
    for (const player of players) {
      await expect(player.page.locator("#turn")).toHaveAttribute("data-user", current.id);
      const says = player.page.locator("#turn-player");
      if (player === current) await expect(says).toContainText("¡Te toca!");
      else await expect(says).toContainText(`Turno de ${current.name}`);
      await expect(player.page.locator("#turn-seconds")).toHaveText(/^[0-5]$/);
    }
    return current;
  }

  const first = await currentPlayer();
  const outOfTurn = players.find((p) => p !== first)!;
  const refused = await outOfTurn.context.request.post(`/api/rooms/${slug}/words`, {
    data: { text: "no" },
  });
  expect(refused.status()).toBe(409);
  expect((await refused.json()).type).toBe("urn:frase:problem:not-your-turn");
  await addWord(outOfTurn.page, "tampoco");
  await expect(outOfTurn.page.locator("#word-error")).toContainText("No es tu turno");

  await addWord(first.page, "érase");
  for (const player of players) await expect(sentenceWords(player.page)).toHaveText(["Érase"]);
  const second = await currentPlayer(first.id);
  expect(second).not.toBe(first);

  // The second player lets the 5 s run out: the turn passes to the third, on every screen.
  const waitStarted = Date.now();
  const third = await currentPlayer(second.id);
  expect(Date.now() - waitStarted).toBeGreaterThan(2_000);
  expect([first, second]).not.toContain(third);
  const late = await second.context.request.post(`/api/rooms/${slug}/words`, {
    data: { text: "tarde" },
  });
  expect(late.status()).toBe(409);

  await addWord(third.page, "una");
  for (const player of players) {
    await expect(sentenceWords(player.page)).toHaveText(["Érase", "una"]);
    // Everyone has had their turn: the round is over.
    await expect(player.page.locator("#turn-player")).toContainText("anfitrión");
  }
  await Promise.all(players.map((p) => p.context.close()));
});
