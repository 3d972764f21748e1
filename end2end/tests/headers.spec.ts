import { expect, test, type APIResponse } from "@playwright/test";

// Issue 11, acceptance 2: the security headers on a page, an API response, a `/pkg/` asset of the
// release build and an error response.
function expectSecurityHeaders(response: APIResponse, what: string) {
  const headers = response.headers();
  const csp = headers["content-security-policy"] ?? "";
  expect(csp, `${what}: CSP`).toContain("script-src 'self' 'wasm-unsafe-eval'");
  expect(csp, `${what}: no inline script`).not.toContain("'unsafe-inline'");
  expect(csp, `${what}: no eval`).not.toContain("'unsafe-eval'");
  expect(csp, `${what}: no framing`).toContain("frame-ancestors 'none'");
  expect(headers["x-content-type-options"], what).toBe("nosniff");
  expect(headers["referrer-policy"], what).toBe("strict-origin-when-cross-origin");
  expect(headers["x-frame-options"], what).toBe("DENY");
  expect(headers["permissions-policy"], what).toContain("camera=()");
}

test("every kind of response carries the security headers", async ({ request }) => {
  const page = await request.get("/r/main");
  expect(page.status()).toBe(200);
  expectSecurityHeaders(page, "page");
  expect(page.headers()["content-security-policy"]).toMatch(/'nonce-[A-Za-z0-9+/=_-]+'/);

  const api = await request.get("/api/rooms/main");
  expect(api.status()).toBe(200);
  expectSecurityHeaders(api, "API");

  const assets = [...(await page.text()).matchAll(/\/pkg\/[^"' ]+\.(?:js|wasm|css)/g)].map((m) => m[0]);
  expect(assets.length, "the page links its /pkg/ assets").toBeGreaterThan(0);
  for (const asset of new Set(assets)) {
    const response = await request.get(asset);
    expect(response.status(), asset).toBe(200);
    expect(response.headers()["cache-control"], asset).toBe("public, max-age=31536000, immutable");
    expectSecurityHeaders(response, asset);
  }

  for (const path of ["/api/rooms/nope-nope", "/no/such/page"]) {
    const missing = await request.get(path);
    expect(missing.status(), path).toBe(404);
    expectSecurityHeaders(missing, `error ${path}`);
  }
});
