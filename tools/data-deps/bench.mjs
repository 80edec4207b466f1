// Usage: node bench.mjs <lib> <task> [outfile]
// tasks: pq-write | pq-read | pq-proj | pq-filter | csv-write | csv-read
// Prints one JSON line: {lib, task, seconds, rows, check, note}.
// Timing excludes synthetic-data generation (for writes) but includes file I/O
// and every conversion needed to get to / from an apache-arrow Table.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import * as arrow from 'apache-arrow';
import * as C from './common.mjs';

const require = createRequire(import.meta.url);
const [lib, task, outArg] = process.argv.slice(2);
const now = () => performance.now() / 1000;

const libs = {};

// ---------------------------------------------------------------- parquet-wasm
libs['parquet-wasm'] = async () => {
  const pw = require('parquet-wasm/node');
  const props = () => new pw.WriterPropertiesBuilder().setCompression(pw.Compression.SNAPPY).build();
  const read = (path, opts) => {
    const buf = fs.readFileSync(path);
    const wt = pw.readParquet(buf, opts);
    return arrow.tableFromIPC(wt.intoIPCStream());
  };
  // NB: in 0.8.0 the sync readParquet() ignores `columns`; the async
  // ParquetFile reader honours it, so projection uses ParquetFile over a
  // file-backed Blob (fs.openAsBlob: only the needed column chunks are read).
  const readAsync = async (path, opts) => {
    const pf = await pw.ParquetFile.fromFile(await fs.openAsBlob(path));
    return arrow.tableFromIPC((await pf.read(opts)).intoIPCStream());
  };
  return {
    write(table, path) {
      const wt = pw.Table.fromIPCStream(arrow.tableToIPC(table, 'stream'));
      fs.writeFileSync(path, pw.writeParquet(wt, props()));
    },
    read: (path) => read(path),
    readAsync: (path) => readAsync(path),
    readBig: (path) => read(path, { batchSize: 1 << 20 }), // fewer, larger record batches
    projBig: (path) => readAsync(path, { columns: ['x', 'category'], batchSize: 1 << 20 }),
    proj: (path) => readAsync(path, { columns: ['x', 'category'] }),
    // No predicate pushdown in parquet-wasm: project, then filter in JS.
    filter: async (path) => C.postFilter(await readAsync(path, { columns: ['x', 'category'] })),
    filterNote: 'no predicate API (only rowGroups/offset/limit); JS post-filter after projection',
  };
};

// ---------------------------------------------------------------- hyparquet (+ hyparquet-writer)
libs['hyparquet'] = async () => {
  const hp = await import('hyparquet');
  const hw = await import('hyparquet-writer');
  const CT = { id: BigInt64Array, x: Float64Array, y: Float64Array, category: Int32Array };
  async function readCols(path, columns) {
    const file = await hp.asyncBufferFromFile(path);
    const meta = await hp.parquetMetadataAsync(file);
    const names = columns ?? meta.schema.slice(1).map((s) => s.name);
    const chunks = Object.fromEntries(names.map((n) => [n, []]));
    await hp.parquetRead({
      file,
      metadata: meta,
      columns: names,
      onChunk: (c) => chunks[c.columnName].push({ start: c.rowStart, data: c.columnData }),
    });
    const cols = {};
    for (const n of names) {
      const parts = chunks[n]
        .sort((a, b) => a.start - b.start)
        .map((p) => (ArrayBuffer.isView(p.data) ? p.data : CT[n].from(p.data)));
      cols[n] = C.concatTyped(parts, CT[n]);
    }
    return C.tableFromColumns(cols);
  }
  return {
    write(table, path) {
      hw.parquetWriteFile({
        filename: path,
        columnData: [
          { name: 'id', data: C.col(table, 'id'), type: 'INT64' },
          { name: 'x', data: C.col(table, 'x'), type: 'DOUBLE' },
          { name: 'y', data: C.col(table, 'y'), type: 'DOUBLE' },
          { name: 'category', data: C.col(table, 'category'), type: 'INT32' },
        ],
        codec: 'SNAPPY',
      });
    },
    read: (path) => readCols(path),
    proj: (path) => readCols(path, ['x', 'category']),
    // hyparquet's filter option: rows come back as objects (rowFormat 'object'),
    // row groups pruned by min/max statistics.
    async filter(path) {
      const file = await hp.asyncBufferFromFile(path);
      const rows = await hp.parquetReadObjects({ file, columns: ['x', 'category'], filter: { category: { $lt: 10 } } });
      const x = new Float64Array(rows.length),
        c = new Int32Array(rows.length);
      for (let i = 0; i < rows.length; i++) {
        x[i] = rows[i].x;
        c[i] = rows[i].category;
      }
      return C.tableFromColumns({ x, category: c });
    },
    filterNote: 'native `filter` option (row objects, row-group stats pruning) -> Arrow',
  };
};

// ---------------------------------------------------------------- DuckDB (@duckdb/node-api)
// node-api has no Arrow import/export: data moves through DataChunks.  We use
// the vectors' `items` typed arrays (declared private in the .d.ts) for the
// bulk copy; the public path (getColumnValues -> JS arrays) is far slower.
libs['duckdb'] = async () => {
  const D = require('@duckdb/node-api');
  const inst = await D.DuckDBInstance.create(':memory:', { threads: '2' });
  const con = await inst.connect();
  const TYPES = { BIGINT: BigInt64Array, DOUBLE: Float64Array, INTEGER: Int32Array };
  async function loadArrow(table) {
    await con.run('CREATE OR REPLACE TABLE t (id BIGINT, x DOUBLE, y DOUBLE, category INTEGER)');
    const app = await con.createAppender('t');
    const cols = ['id', 'x', 'y', 'category'].map((n) => C.col(table, n));
    const types = [D.BIGINT, D.DOUBLE, D.DOUBLE, D.INTEGER];
    const n = table.numRows,
      B = 2048;
    for (let off = 0; off < n; off += B) {
      const len = Math.min(B, n - off);
      const chunk = D.DuckDBDataChunk.create(types, len);
      for (let c = 0; c < 4; c++) {
        const v = chunk.getColumnVector(c);
        v.items.set(cols[c].subarray(off, off + len));
        v.flush();
      }
      app.appendDataChunk(chunk);
    }
    app.closeSync();
  }
  async function queryArrow(sql) {
    const res = await con.stream(sql);
    const names = res.columnNames();
    const types = res.columnTypes().map((t) => t.toString());
    const parts = names.map(() => []);
    for (;;) {
      const chunk = await res.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      for (let c = 0; c < names.length; c++) parts[c].push(chunk.getColumnVector(c).items.slice());
    }
    const cols = {};
    names.forEach((n, c) => {
      cols[n] = C.concatTyped(parts[c], TYPES[types[c]]);
    });
    return C.tableFromColumns(cols);
  }
  return {
    async write(table, path) {
      await loadArrow(table);
      await con.run(`COPY t TO '${path}' (FORMAT parquet, COMPRESSION snappy)`);
    },
    read: (path) => queryArrow(`SELECT * FROM read_parquet('${path}')`),
    proj: (path) => queryArrow(`SELECT x, category FROM read_parquet('${path}')`),
    filter: (path) => queryArrow(`SELECT x, category FROM read_parquet('${path}') WHERE category < 10`),
    filterNote: 'SQL WHERE pushed into the parquet scan (stats + late materialisation)',
    async csvWrite(table, path) {
      await loadArrow(table);
      await con.run(`COPY t TO '${path}' (FORMAT csv, HEADER)`);
    },
    csvRead: (path) =>
      queryArrow(
        `SELECT * FROM read_csv('${path}', header=true, columns={'id':'BIGINT','x':'DOUBLE','y':'DOUBLE','category':'INTEGER'})`,
      ),
    // public API variant for comparison (no private fields)
    async readPublic(path) {
      const reader = await con.runAndReadAll(`SELECT * FROM read_parquet('${path}')`);
      const o = reader.getColumnsObjectJS();
      return C.tableFromColumns({
        id: BigInt64Array.from(o.id),
        x: Float64Array.from(o.x),
        y: Float64Array.from(o.y),
        category: Int32Array.from(o.category),
      });
    },
  };
};

// ---------------------------------------------------------------- nodejs-polars (Arrow IPC bridge)
libs['polars'] = async () => {
  const pl = require('nodejs-polars');
  const toArrow = (df) => arrow.tableFromIPC(df.writeIPC());
  const fromArrow = (table) => pl.readIPC(Buffer.from(arrow.tableToIPC(table, 'file')));
  return {
    write(table, path) {
      fromArrow(table).writeParquet(path, { compression: 'snappy' });
    },
    read: (path) => toArrow(pl.readParquet(path)),
    proj: (path) => toArrow(pl.readParquet(path, { columns: ['x', 'category'] })),
    async filter(path) {
      const df = await pl.scanParquet(path).select('x', 'category').filter(pl.col('category').lt(10)).collect();
      return toArrow(df);
    },
    filterNote: 'lazy scanParquet + filter: predicate pushdown into the scan',
    csvWrite(table, path) {
      fromArrow(table).writeCSV(path);
    },
    csvRead: (path) =>
      toArrow(pl.readCSV(path, { dtypes: { id: pl.Int64, x: pl.Float64, y: pl.Float64, category: pl.Int32 } })),
  };
};

// ---------------------------------------------------------------- CSV: hand-rolled (no library)
libs['handrolled'] = async () => ({
  csvWrite(table, path) {
    const id = C.col(table, 'id'),
      x = C.col(table, 'x'),
      y = C.col(table, 'y'),
      c = C.col(table, 'category');
    const fd = fs.openSync(path, 'w');
    fs.writeSync(fd, 'id,x,y,category\n');
    const B = 65536;
    for (let off = 0; off < id.length; off += B) {
      let s = '';
      const end = Math.min(id.length, off + B);
      for (let i = off; i < end; i++) s += id[i] + ',' + x[i] + ',' + y[i] + ',' + c[i] + '\n';
      fs.writeSync(fd, s);
    }
    fs.closeSync(fd);
  },
  csvRead(path) {
    // naive: no quoting support; schema known up front
    const text = fs.readFileSync(path, 'utf8');
    const lines = text.split('\n');
    let n = lines.length - 1;
    if (lines[n] === '') n--;
    const id = new BigInt64Array(n),
      x = new Float64Array(n),
      y = new Float64Array(n),
      c = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const f = lines[i + 1].split(',');
      id[i] = BigInt(f[0]);
      x[i] = +f[1];
      y[i] = +f[2];
      c[i] = +f[3];
    }
    return C.tableFromColumns({ id, x, y, category: c });
  },
});

// ---------------------------------------------------------------- CSV: papaparse
libs['papaparse'] = async () => {
  const Papa = require('papaparse');
  return {
    csvWrite(table, path) {
      // Papa.unparse wants rows: arrays of values (bigint -> string)
      const id = C.col(table, 'id'),
        x = C.col(table, 'x'),
        y = C.col(table, 'y'),
        c = C.col(table, 'category');
      const data = new Array(id.length);
      for (let i = 0; i < id.length; i++) data[i] = [String(id[i]), x[i], y[i], c[i]];
      fs.writeFileSync(path, Papa.unparse({ fields: ['id', 'x', 'y', 'category'], data }, { newline: '\n' }) + '\n');
    },
    csvRead(path) {
      const text = fs.readFileSync(path, 'utf8');
      // dynamicTyping would turn id into a lossy JS number; parse id ourselves
      const r = Papa.parse(text, { header: false, skipEmptyLines: true, dynamicTyping: { 1: true, 2: true, 3: true } });
      const rows = r.data;
      const n = rows.length - 1;
      const id = new BigInt64Array(n),
        x = new Float64Array(n),
        y = new Float64Array(n),
        c = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const f = rows[i + 1];
        id[i] = BigInt(f[0]);
        x[i] = f[1];
        y[i] = f[2];
        c[i] = f[3];
      }
      return C.tableFromColumns({ id, x, y, category: c });
    },
  };
};

// ---------------------------------------------------------------- CSV: csv-parse / csv-stringify
libs['csv-parse'] = async () => {
  const { parse } = require('csv-parse/sync');
  const { stringify } = require('csv-stringify/sync');
  return {
    csvWrite(table, path) {
      const id = C.col(table, 'id'),
        x = C.col(table, 'x'),
        y = C.col(table, 'y'),
        c = C.col(table, 'category');
      const data = new Array(id.length);
      for (let i = 0; i < id.length; i++) data[i] = [String(id[i]), x[i], y[i], c[i]];
      fs.writeFileSync(path, stringify(data, { header: true, columns: ['id', 'x', 'y', 'category'] }));
    },
    csvRead(path) {
      const rows = parse(fs.readFileSync(path), { from_line: 2 }); // strings; we type them
      const n = rows.length;
      const id = new BigInt64Array(n),
        x = new Float64Array(n),
        y = new Float64Array(n),
        c = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const f = rows[i];
        id[i] = BigInt(f[0]);
        x[i] = +f[1];
        y[i] = +f[2];
        c[i] = +f[3];
      }
      return C.tableFromColumns({ id, x, y, category: c });
    },
  };
};

// ---------------------------------------------------------------- main
const L = await libs[lib]();
const out = outArg ?? `${C.DATA}out-${lib}.${task.startsWith('csv') ? 'csv' : 'parquet'}`;
let t0,
  t1,
  result,
  note = '';
if (task === 'pq-write' || task === 'csv-write') {
  const n = task === 'pq-write' ? C.N_PARQUET : C.N_CSV;
  const table = C.makeTable(n);
  t0 = now();
  await (task === 'pq-write' ? L.write(table, out) : L.csvWrite(table, out));
  t1 = now();
  result = { rows: n, bytes: fs.statSync(out).size };
} else {
  const src = task.startsWith('csv') ? C.REF_CSV : C.REF_PARQUET;
  const fn = {
    'pq-read': L.read,
    'pq-proj': L.proj,
    'pq-filter': L.filter,
    'csv-read': L.csvRead,
    'pq-read-public': L.readPublic,
    'pq-read-async': L.readAsync,
    'pq-read-bigbatch': L.readBig,
    'pq-proj-bigbatch': L.projBig,
  }[task];
  if (task === 'pq-filter') note = L.filterNote;
  t0 = now();
  const table = await fn(src);
  t1 = now();
  if (!(table instanceof arrow.Table)) throw new Error('not an arrow Table');
  result = C.checksum(table);
}
console.log(JSON.stringify({ lib, task, seconds: +(t1 - t0).toFixed(3), ...result, note }));
process.exit(0);
