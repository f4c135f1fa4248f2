#!/usr/bin/env bash
# The browser tests under load (issue 16, item 8): one e2e file run N times in a row while
# two busy loops keep both cores of the machine busy.
#
# Usage: scripts/e2e_under_load.sh [E2E_FILE] [RUNS]
#   E2E_FILE  default tests/e2e/test_explorer_e2e.py
#   RUNS      default 10
#   PYTHON    interpreter (default .venv/bin/python of the repository)
#   LOAD      busy loops beside the tests (default: the number of CPUs)
#
# Every run gets its own --basetemp (/tmp/e2e-under-load-<i>, screenshots and server logs
# kept for a failed run). Prints one line per run and the count of passes; exits 0 only if
# every run passed. The busy loops are this script's own children and end with it.
set -u
repo="$(cd "$(dirname "$0")/.." && pwd)"
file="${1:-tests/e2e/test_explorer_e2e.py}"
runs="${2:-10}"
python="${PYTHON:-$repo/.venv/bin/python}"
load="${LOAD:-$(nproc)}"
cd "$repo" || exit 2

busy=()
stop_busy() {
  for pid in "${busy[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
}
trap stop_busy EXIT INT TERM
for _ in $(seq "$load"); do
  "$python" -c 'while 1: pass' &
  busy+=("$!")
done
echo "$(date -u +%FT%TZ) $file x $runs beside $load busy loop(s) (pids ${busy[*]})"

passed=0
streak=0
best=0
for i in $(seq "$runs"); do
  start=$(date +%s)
  PYTHONPATH="$repo" "$python" -m pytest "$file" -q -x -p no:cacheprovider \
    --basetemp="/tmp/e2e-under-load-$i" >"/tmp/e2e-under-load-$i.log" 2>&1
  status=$?
  took=$(($(date +%s) - start))
  load_now=$(cut -d' ' -f1 /proc/loadavg)
  if [ "$status" -eq 0 ]; then
    passed=$((passed + 1))
    streak=$((streak + 1))
    verdict=passed
  else
    streak=0
    verdict="FAILED (status $status, log /tmp/e2e-under-load-$i.log)"
  fi
  [ "$streak" -gt "$best" ] && best=$streak
  echo "run $i: $verdict in ${took} s, load $load_now: $(tail -n 1 "/tmp/e2e-under-load-$i.log")"
done
echo "$passed of $runs runs passed; longest streak $best"
[ "$passed" -eq "$runs" ]
