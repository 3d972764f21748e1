#!/usr/bin/env bash
# CPU time per event written, during a fan-out: N streams held open on one room by a small
# Python client, then WORDS words posted at 10/s; prints the CPU time the server's stream,
# publisher and fan-out threads (or the whole native floor) used, divided by the events
# written. Steadier than latency from run to run (within about 3 %), so it tells apart changes
# that latency cannot.
#
#   bench/fanout-cpu.sh frase target/release/frase [N]
#   bench/fanout-cpu.sh floor target/benchmark/deps/live-<hash> [N]
#
# Not a test, not part of `make bench`. Needs python3 and `ulimit -n` above N.
set -euo pipefail
mode=${1:?"frase or floor"}; binary=${2:?"the binary"}; streams=${3:-10000}; words=${WORDS:-20}
port=${PORT:-3941}
holder=$(mktemp --suffix .py); data=$(mktemp -d); log=$(mktemp)
trap 'rm -rf "$holder" "$data" "$log"; kill $(jobs -p) 2>/dev/null || true' EXIT
cat > "$holder" <<'PY'
import asyncio, sys
streams, port, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
opened = words = 0
async def hold():
    global opened, words
    reader, writer = await asyncio.open_connection('127.0.0.1', port, limit=1 << 20)
    writer.write(f"GET /api/rooms/main/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                 "Accept: text/event-stream\r\n\r\n".encode())
    first = True
    while data := await reader.read(65536):
        opened += first; first = False
        words += data.count(b'event: word')
async def main():
    # Held here: the event loop keeps only weak references to tasks, and a stream's task left
    # unreferenced was collected mid-run (a few hundred of 3,000), so "opened" never came.
    tasks = []
    for i in range(streams):
        tasks.append(asyncio.create_task(hold()))
        if i % 500 == 499: await asyncio.sleep(0.05)
    for _ in range(600):
        if opened == streams: break
        await asyncio.sleep(0.2)
    else:
        print(f"gave up: {opened} of {streams} streams opened in 2 minutes", flush=True)
        sys.exit(1)
    print("opened", opened, flush=True)
    await asyncio.sleep(seconds)
    print("word events", words, flush=True)
asyncio.run(main())
PY
if [ "$mode" = floor ]; then
  fifo="$data/words"; mkfifo "$fifo"
  FRASE_BENCH_FLOOR_PORT=$port "$binary" < "$fifo" & server=$!
  exec 3> "$fifo"
else
  RUST_LOG=error "$binary" serve --addr 127.0.0.1:$port --data-dir "$data" --rate-limit off \
    --streams-per-address 0 --connections-per-address 0 > /dev/null 2>&1 & server=$!
fi
sleep 2
python3 "$holder" "$streams" "$port" $((words / 10 + 8)) > "$log" & holder_pid=$!
until grep -q "^opened" "$log"; do
  if ! kill -0 "$holder_pid" 2>/dev/null; then cat "$log" >&2; exit 1; fi
  sleep 0.5
done
sleep 2
ticks() {
  local sum=0 task
  for task in /proc/$server/task/*; do
    if [ "$mode" = floor ] || [[ "$(cat "$task/comm")" =~ ^frase-(streams|publish|fanout) ]]; then
      read -r -a times <<< "$(cut -d' ' -f14,15 "$task/stat")"
      sum=$((sum + times[0] + times[1]))
    fi
  done
  echo $sum
}
before=$(ticks)
for i in $(seq "$words"); do
  if [ "$mode" = floor ]; then echo "$i" >&3; else
    curl -s -o /dev/null -H "content-type: application/json" -H "origin: http://127.0.0.1:$port" \
      -d "{\"text\":\"w$i\"}" "http://127.0.0.1:$port/api/rooms/main/words" &
  fi
  sleep 0.1
done
sleep 1.5
after=$(ticks)
wait $holder_pid
tail -1 "$log"
python3 -c "import os; t=os.sysconf('SC_CLK_TCK'); print(f'$mode: {($after-$before)/t*1e6/($words*$streams):.2f} µs of CPU per event written ($streams streams, $words words)')"
