/**
 * Search spaces and searchers of @ray-ts/tune: the sampling primitives (`uniform`, `choice`,
 * `gridSearch`, `sampleFrom`...), the default {@link BasicVariantGenerator}, the {@link TPESearch}
 * Bayesian optimizer and the {@link ConcurrencyLimiter} wrapper.
 */
export {
  Domain,
  FloatDomain,
  IntegerDomain,
  NormalDomain,
  CategoricalDomain,
  GridSearchDomain,
  FunctionDomain,
  uniform,
  quniform,
  loguniform,
  qloguniform,
  randint,
  qrandint,
  lograndint,
  qlograndint,
  randn,
  qrandn,
  choice,
  gridSearch,
  sampleFrom,
} from './space.js';
export type { DomainKind, SampleSpec } from './space.js';
export {
  findDomains,
  findGridDimensions,
  countGridVariants,
  flattenConfig,
  unflattenConfig,
  resolveSpace,
  presetValues,
  pathKey,
  getAtPath,
} from './resolve.js';
export type { Path, DomainEntry, GridDimension, GridHandling, PresetValue } from './resolve.js';
/** Core's seeded generator, which Tune's searchers and schedulers draw from (`SeededRng` from `@ray-ts/core`). */
export { SeededRng } from '@ray-ts/core';
export type { Rng } from './rng.js';
export { BasicVariantGenerator, compileBasicVariantGeneratorOptions } from './basic-variant.js';
export type { BasicVariantGeneratorOptions, CompiledBasicVariantGeneratorOptions } from './basic-variant.js';
export { TPESearch, compileTPESearchOptions } from './tpe.js';
export type { TPESearchOptions, CompiledTPESearchOptions } from './tpe.js';
export { ConcurrencyLimiter, hasSetNumSamples } from './concurrency-limiter.js';
export type { ConcurrencyLimiterOptions, NumSamplesAware } from './concurrency-limiter.js';
