#!/bin/bash
# Read every writer's small parquet output with every reader (100k rows); print checksum.
cd "$(dirname "$0")"
export DATADIR=$PWD/data/small/ NPQ=100000
for w in parquet-wasm hyparquet duckdb polars; do
  for r in parquet-wasm hyparquet duckdb polars; do
    cp data/small/out-$w.parquet data/small/ref.parquet.tmp
    mv data/small/ref.parquet data/small/ref.parquet.keep
    mv data/small/ref.parquet.tmp data/small/ref.parquet
    res=$(node bench.mjs $r pq-read 2>&1 | tail -1 | grep -o '"catSum":[0-9]*,"xSum":[0-9.]*' || echo FAIL)
    mv data/small/ref.parquet.keep data/small/ref.parquet
    echo "writer=$w reader=$r $res"
  done
done
