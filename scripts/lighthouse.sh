#!/usr/bin/env bash
# `make lighthouse`: Lighthouse (npm, pinned in tools/lighthouse) with Debian's Chromium on the
# release build: the lobby and a room with a sentence, mobile and desktop. Prints the four scores
# and the timings behind performance for each; the reports are kept in target/lighthouse/. A
# measurement, like the benchmarks: it never fails on a score.
#
#   scripts/lighthouse.sh [PORT]
set -euo pipefail
port="${1:-3921}"
cd "$(dirname "$0")/.."
. scripts/lib/server.sh

chromium="${FRASE_CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium" ] || { echo "no Chromium at $chromium (apt-get install chromium)" >&2; exit 1; }
if [ ! -x tools/lighthouse/node_modules/.bin/lighthouse ]; then
  echo "==> npm ci in tools/lighthouse" >&2
  (cd tools/lighthouse && npm ci --no-audit --no-fund --silent)
fi
start_server "$port"
for word in Había una vez un dragón que quería cantar; do
  curl -sf -o /dev/null -X POST "$SERVER_BASE/api/rooms/main/words" \
    -H 'content-type: application/json' -d "{\"text\":\"$word\"}"
done

out=target/lighthouse
mkdir -p "$out"
for page in / /r/main; do
  for form in mobile desktop; do
    name="$(tr -c 'a-z0-9\n' '-' <<<"${page#/}" | sed 's/^$/lobby/')-$form"
    preset=()
    [ "$form" = desktop ] && preset=(--preset=desktop)
    echo "==> Lighthouse $page ($form)" >&2
    CHROME_PATH="$chromium" tools/lighthouse/node_modules/.bin/lighthouse "$SERVER_BASE$page" \
      "${preset[@]}" --quiet --output=json --output-path="$out/$name.json" \
      --only-categories=performance,accessibility,best-practices,seo \
      --chrome-flags="--headless=new --no-sandbox --disable-gpu" >/dev/null
  done
done

node - "$out" <<'NODE'
const fs = require("fs");
const dir = process.argv[2];
const rows = fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
console.log("| page | performance | accessibility | best practices | SEO | FCP | LCP | TBT | CLS |");
console.log("|---|---|---|---|---|---|---|---|---|");
for (const file of rows) {
  const report = JSON.parse(fs.readFileSync(`${dir}/${file}`, "utf8"));
  const score = (id) => Math.round(report.categories[id].score * 100);
  const audit = (id) => report.audits[id].displayValue;
  console.log(`| ${file.replace(/\.json$/, "")} | ${score("performance")} | ${score("accessibility")} | ${score("best-practices")} | ${score("seo")} | ${audit("first-contentful-paint")} | ${audit("largest-contentful-paint")} | ${audit("total-blocking-time")} | ${audit("cumulative-layout-shift")} |`);
  const failing = Object.values(report.categories).flatMap((category) =>
    category.auditRefs
      .filter((ref) => ref.weight > 0)
      .map((ref) => report.audits[ref.id])
      .filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode !== "informative" && a.scoreDisplayMode !== "manual")
      .map((a) => `${category.id}: ${a.id} (${a.score})`),
  );
  for (const line of [...new Set(failing)]) console.log(`    ${line}`);
}
NODE
