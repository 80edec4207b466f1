// Shared helpers: synthetic Arrow table, column extraction, JS post-filter, checksums.
import * as arrow from 'apache-arrow';

export const N_PARQUET = +(process.env.NPQ ?? 10_000_000);
export const N_CSV = +(process.env.NCSV ?? 1_000_000);
export const DATA = process.env.DATADIR ?? new URL('./data/', import.meta.url).pathname;
export const REF_PARQUET = DATA + 'ref.parquet'; // written by parquet-wasm (snappy, 1Mi-row groups)
export const REF_CSV = DATA + 'ref.csv'; // written by the hand-rolled writer

// Deterministic PRNG so every library gets the same data.
function mulberry32(a) {
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function makeColumns(n) {
  const rnd = mulberry32(42);
  const id = new BigInt64Array(n);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const category = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    id[i] = BigInt(i);
    x[i] = rnd();
    y[i] = rnd() * 1000 - 500;
    category[i] = (rnd() * 100) | 0;
  }
  return { id, x, y, category };
}

export function makeTable(n) {
  return tableFromColumns(makeColumns(n));
}

// Build an Arrow table from typed arrays (zero-copy).
export function tableFromColumns(cols) {
  const vecs = {};
  for (const [k, v] of Object.entries(cols)) vecs[k] = arrow.makeVector(v);
  return new arrow.Table(vecs);
}

// Contiguous typed array for one column of an Arrow table.
export function col(table, name) {
  return table.getChild(name).toArray();
}

// Concat typed-array chunks into one typed array.
export function concatTyped(chunks, Ctor) {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Ctor(n);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

// JS-side filter (category < 10) over an Arrow table with x, category — used
// where the library has no predicate pushdown.
export function postFilter(table) {
  const x = col(table, 'x');
  const c = col(table, 'category');
  let k = 0;
  const ox = new Float64Array(c.length);
  const oc = new Int32Array(c.length);
  for (let i = 0; i < c.length; i++)
    if (c[i] < 10) {
      ox[k] = x[i];
      oc[k] = c[i];
      k++;
    }
  return tableFromColumns({ x: ox.slice(0, k), category: oc.slice(0, k) });
}

// Checksum so results can be compared across libraries.
export function checksum(table) {
  const out = { rows: table.numRows, cols: table.schema.fields.map((f) => `${f.name}:${f.type}`).join(',') };
  if (table.getChild('category')) {
    let s = 0;
    for (const v of col(table, 'category')) s += v;
    out.catSum = s;
  }
  if (table.getChild('x')) {
    let s = 0;
    for (const v of col(table, 'x')) s += v;
    out.xSum = +s.toFixed(3);
  }
  if (table.getChild('id')) {
    const a = col(table, 'id');
    out.idLast = String(a[a.length - 1]);
  }
  return out;
}
