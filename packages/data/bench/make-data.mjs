#!/usr/bin/env node
// Writes the Data benchmark's Parquet datasets (snappy, with nodejs-polars), shared by the ray-ts
// benchmark and the Ray Data baseline (ray_data_bench.py):
//
//   node packages/data/bench/make-data.mjs --out DIR [--rows 10000000] [--files 20]
//        [--mlp-rows 1000000] [--mlp-files 10] [--mlp-layout columns|fixed-size-list]
//        [--seed 42] [--mlp-seed 7] [--force]
//
//   DIR/tabular/part-00000.parquet ...  --rows rows in --files files:
//        id int64 (0..N-1, in file order), x float64 U[0,1), y float64 U[-500,500),
//        category int32 (100 values, 0..99). Per row, in id order, from mulberry32(--seed):
//        x = r(), y = r()*1000-500, category = floor(r()*100) (the data of tools/data-deps).
//   DIR/mlp/features-00000.parquet ...  --mlp-rows rows in --mlp-files files of 64 float32
//        features U[-1,1) per row, row by row from mulberry32(--mlp-seed): the same values as
//        randomFeatures(mlpRows, 64, mlpSeed) in tools/mlp-reference.mjs.
//   DIR/manifest.json  what was written; a section whose parameters match is not rewritten.
//
// The two datasets live in sibling folders because Ray's read_parquet(DIR) lists folders
// recursively: a features file under the tabular folder would be read as part of it.
//
// Feature layout (--mlp-layout, default `columns`): 64 float32 columns f0..f63. Measured on this
// machine for 500k rows (one file): pyarrow reads 64 flat columns in 0.08 s against 1-2 s for
// one fixed_size_list<float>[64] column (Parquet has no fixed-size list: it is stored as a LIST
// with repetition levels, slow to decode), and Ray hands a fixed_size_list column to map_batches
// as an object array of per-row arrays (np.stack per batch), while flat columns arrive as
// float32 arrays (np.stack(cols, axis=1) is one copy). nodejs-polars reads the columns layout
// in 0.4 s against 0.8 s for the list one, but the columns then need a transpose into the
// row-major [rows, 64] buffer ONNX Runtime wants (~0.6 s naive); the list layout is zero-copy
// there (the child values are that buffer). `fixed-size-list` writes one column `features`
// FixedSizeList<Float32, 64> instead, for comparing; ray_data_bench.py reads both.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pl from 'nodejs-polars';
import { mulberry32 } from '../../../tools/mlp-reference.mjs';

const FEATURES = 64;
const MANIFEST_VERSION = 1;

/** Rows of each file: n split into `files` near-equal parts, larger ones first. */
function splitRows(n, files) {
  const base = Math.floor(n / files);
  return Array.from({ length: files }, (_, i) => base + (i < n % files ? 1 : 0));
}

const pad = (i) => String(i).padStart(5, '0');

// Writes into DIR/.NAME.tmp and renames at the end, so an interrupted run leaves no half dataset.
function writeSection(out, name, files, writeFile) {
  const final = path.join(out, name);
  const tmp = path.join(out, `.${name}.tmp`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  for (let f = 0; f < files; f++) writeFile(f, tmp);
  fs.rmSync(final, { recursive: true, force: true });
  fs.renameSync(tmp, final);
}

function writeTabular(out, { rows, files, seed }) {
  const rnd = mulberry32(seed);
  const sizes = splitRows(rows, files);
  let start = 0;
  writeSection(out, 'tabular', files, (f, dir) => {
    const n = sizes[f];
    const id = new BigInt64Array(n);
    const x = new Float64Array(n);
    const y = new Float64Array(n);
    const category = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      id[i] = BigInt(start + i);
      x[i] = rnd();
      y[i] = rnd() * 1000 - 500;
      category[i] = Math.floor(rnd() * 100);
    }
    start += n;
    const df = pl.DataFrame([
      pl.Series('id', id),
      pl.Series('x', x),
      pl.Series('y', y),
      pl.Series('category', category),
    ]);
    df.writeParquet(path.join(dir, `part-${pad(f)}.parquet`), { compression: 'snappy' });
  });
}

async function writeMlp(out, { rows, files, seed, layout }) {
  const rnd = mulberry32(seed);
  const sizes = splitRows(rows, files);
  const arrow = layout === 'fixed-size-list' ? await import('apache-arrow') : null;
  writeSection(out, 'mlp', files, (f, dir) => {
    const n = sizes[f];
    const file = path.join(dir, `features-${pad(f)}.parquet`);
    if (arrow) {
      const flat = new Float32Array(n * FEATURES);
      for (let i = 0; i < flat.length; i++) flat[i] = rnd() * 2 - 1;
      const child = arrow.makeData({ type: new arrow.Float32(), length: flat.length, data: flat });
      const type = new arrow.FixedSizeList(FEATURES, new arrow.Field('item', new arrow.Float32(), false));
      const features = arrow.makeVector(arrow.makeData({ type, length: n, nullCount: 0, child }));
      const ipc = arrow.tableToIPC(new arrow.Table({ features }), 'file');
      pl.readIPC(Buffer.from(ipc.buffer, ipc.byteOffset, ipc.byteLength)).writeParquet(file, { compression: 'snappy' });
    } else {
      const cols = Array.from({ length: FEATURES }, () => new Float32Array(n));
      for (let i = 0; i < n; i++) for (let j = 0; j < FEATURES; j++) cols[j][i] = rnd() * 2 - 1;
      const df = pl.DataFrame(cols.map((c, j) => pl.Series(`f${j}`, c)));
      df.writeParquet(file, { compression: 'snappy' });
    }
  });
}

function readManifest(file) {
  try {
    const m = JSON.parse(fs.readFileSync(file, 'utf8'));
    return m.version === MANIFEST_VERSION ? m : {};
  } catch {
    return {};
  }
}

// A section is current when the manifest records the same parameters and its files are all there.
function isCurrent(out, name, recorded, wanted, prefix) {
  if (!recorded || JSON.stringify(recorded) !== JSON.stringify(wanted)) return false;
  const dir = path.join(out, name);
  for (let f = 0; f < wanted.files; f++) {
    if (!fs.existsSync(path.join(dir, `${prefix}-${pad(f)}.parquet`))) return false;
  }
  return true;
}

async function main() {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      rows: { type: 'string', default: '10000000' },
      files: { type: 'string', default: '20' },
      'mlp-rows': { type: 'string', default: '1000000' },
      'mlp-files': { type: 'string', default: '10' },
      'mlp-layout': { type: 'string', default: 'columns' },
      seed: { type: 'string', default: '42' },
      'mlp-seed': { type: 'string', default: '7' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || !values.out) {
    console.error(
      'usage: node packages/data/bench/make-data.mjs --out DIR [--rows 10000000] [--files 20] ' +
        '[--mlp-rows 1000000] [--mlp-files 10] [--mlp-layout columns|fixed-size-list] [--seed 42] [--mlp-seed 7] [--force]',
    );
    process.exit(values.help ? 0 : 2);
  }
  const int = (name, min) => {
    const v = Number(values[name]);
    if (!Number.isSafeInteger(v) || v < min) {
      console.error(`make-data: --${name} must be an integer >= ${min}, got '${values[name]}'`);
      process.exit(2);
    }
    return v;
  };
  const layout = values['mlp-layout'];
  if (layout !== 'columns' && layout !== 'fixed-size-list') {
    console.error(`make-data: --mlp-layout must be 'columns' or 'fixed-size-list', got '${layout}'`);
    process.exit(2);
  }
  const tabular = { rows: int('rows', 1), files: int('files', 1), seed: int('seed', 0) };
  const mlp = {
    rows: int('mlp-rows', 0),
    files: int('mlp-files', 1),
    seed: int('mlp-seed', 0),
    layout,
    features: FEATURES,
  };
  if (tabular.files > tabular.rows) tabular.files = tabular.rows;
  if (mlp.rows > 0 && mlp.files > mlp.rows) mlp.files = mlp.rows;

  const out = path.resolve(values.out);
  fs.mkdirSync(out, { recursive: true });
  const manifestFile = path.join(out, 'manifest.json');
  const old = values.force ? {} : readManifest(manifestFile);
  const manifest = { version: MANIFEST_VERSION, tabular: old.tabular, mlp: old.mlp };
  const save = () => fs.writeFileSync(manifestFile, JSON.stringify(manifest, null, 2) + '\n');

  const sections = [
    ['tabular', tabular, 'part', () => writeTabular(out, tabular)],
    ...(mlp.rows > 0 ? [['mlp', mlp, 'features', () => writeMlp(out, mlp)]] : []),
  ];
  for (const [name, wanted, prefix, write] of sections) {
    if (isCurrent(out, name, old[name], wanted, prefix)) {
      console.log(`${path.join(out, name)}: up to date (${wanted.rows} rows in ${wanted.files} files), skipped`);
      continue;
    }
    const t0 = performance.now();
    manifest[name] = undefined; // not current while it is being rewritten
    save();
    await write();
    manifest[name] = wanted;
    save();
    console.log(
      `${path.join(out, name)}: wrote ${wanted.rows} rows in ${wanted.files} files ` +
        `in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
}

await main();
