// Debian's Chromium, as every Playwright run here launches it: never a downloaded browser (this
// machine reaches only package registries), and none of the background traffic its closed network
// would refuse.
export const chromiumLaunchOptions = {
  executablePath: process.env.FRASE_CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};
