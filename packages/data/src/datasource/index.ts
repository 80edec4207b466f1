/**
 * The file-format layer of @ray-ts/data (internal; not part of the package's public surface):
 * path expansion, reading files into blocks, writing blocks to files, and Polars evaluation of
 * column expressions. A block is an Arrow table in the Arrow IPC file format (a Uint8Array).
 */
export { expandPaths, globSegmentToRegExp, type ExpandPathsOptions } from './paths.js';
export { toPolarsExpr, filterIpc, missingColumn } from './polars-expr.js';
export { readFile, readFrame, parquetRowCount, type ReadFileOptions, type ReadFormat } from './read.js';
export { writeBlock, fileNameFor, type WriteFormat } from './write.js';
export { blockToDataFrame, dataFrameToBlocks, blockSchema, ownedBytes } from './blocks.js';
