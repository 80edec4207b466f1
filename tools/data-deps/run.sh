#!/bin/bash
# Usage: ./run.sh lib task [runs]  -> appends JSON lines (with maxRSS_MB) to results.jsonl
cd "$(dirname "$0")"
lib=$1; task=$2; runs=${3:-3}
for i in $(seq 1 $runs); do
  line=$( { /usr/bin/time -f 'RSS %M' node --max-old-space-size=16000 bench.mjs $lib $task 2>rss.tmp; } ) || { echo "FAIL $lib $task: $(tail -3 rss.tmp)"; echo "{\"lib\":\"$lib\",\"task\":\"$task\",\"error\":true}" >> results.jsonl; continue; }
  rss=$(grep -o 'RSS [0-9]*' rss.tmp | awk '{print int($2/1024)}')
  echo "${line%\}},\"maxRSS_MB\":$rss,\"run\":$i}" | tee -a results.jsonl
done
