/**
 * Model multiplexing: many models served by one deployment, each replica keeping the most
 * recently used `maxNumModelsPerReplica` loaded (LRU). Requests name their model with the
 * `serve_multiplexed_model_id` header or `handle.options({ multiplexedModelId })`, and are routed
 * to a replica that has the model loaded when there is one.
 */
import { ServeInvalidArgumentError } from './errors.js';
import { getMultiplexedModelId } from './context.js';

/** Options of {@link multiplexed}. */
export interface MultiplexedOptions {
  /** Models one replica keeps loaded (default 3). */
  maxNumModelsPerReplica?: number;
}

type ModelCache = Map<string, Promise<unknown>>;
/** Caches made while a replica builds its object: they are that replica's. */
let capturing: Set<ModelCache> | undefined;
const unowned = new Set<ModelCache>();

/** @internal Runs `build` (a replica's constructor) and returns the model caches it made. */
export async function captureModelCaches<T>(build: () => Promise<T>): Promise<{ value: T; caches: Set<ModelCache> }> {
  const caches = new Set<ModelCache>();
  capturing = caches;
  try {
    const value = await build();
    return { value, caches };
  } finally {
    // Loaders made later (in reconfigure, say) go to the thread's unowned set, read by loadedModelIds.
    capturing = undefined;
  }
}

/** @internal The model ids loaded in the given caches. */
export function loadedModelIds(caches: Set<ModelCache>): string[] {
  const out = new Set<string>();
  for (const m of caches) for (const k of m.keys()) out.add(k);
  for (const m of unowned) for (const k of m.keys()) out.add(k);
  return [...out];
}

/**
 * Wraps a model loader `(modelId) => model` into a cached getter: the first call for a model id
 * loads it; later calls reuse it; past `maxNumModelsPerReplica` the least recently used model is
 * dropped (its `dispose()` or `release()` is called when it has one). Called with no argument, the
 * getter loads the current request's model (see {@link getMultiplexedModelId}).
 * @example
 * class Models {
 *   getModel = multiplexed(async (id: string) => ort.InferenceSession.create(`/models/${id}.onnx`), { maxNumModelsPerReplica: 2 });
 *   async fetch(req: Request) { const model = await this.getModel(); ... }
 * }
 */
export function multiplexed<M>(
  load: (modelId: string) => Promise<M> | M,
  opts: MultiplexedOptions = {},
): (modelId?: string) => Promise<M> {
  const max = opts.maxNumModelsPerReplica ?? 3;
  if (!Number.isInteger(max) || max < 1) {
    throw new ServeInvalidArgumentError(
      `Invalid maxNumModelsPerReplica for multiplexed(): ${max}. Use an integer >= 1.`,
    );
  }
  const models = new Map<string, Promise<M>>();
  (capturing ?? unowned).add(models as ModelCache);
  return async (modelId?: string): Promise<M> => {
    const id = modelId ?? getMultiplexedModelId();
    if (!id) {
      throw new ServeInvalidArgumentError(
        'No model id: send the serve_multiplexed_model_id header, call handle.options({ multiplexedModelId }), or pass the id.',
      );
    }
    const hit = models.get(id);
    if (hit) {
      models.delete(id);
      models.set(id, hit); // most recently used last
      return hit;
    }
    while (models.size >= max) {
      const [oldest, model] = models.entries().next().value as [string, Promise<M>];
      models.delete(oldest);
      void model.then(
        (m) => {
          const d = m as { dispose?: () => unknown; release?: () => unknown } | null;
          if (d && typeof d.dispose === 'function') return d.dispose();
          if (d && typeof d.release === 'function') return d.release();
        },
        () => undefined,
      );
    }
    const p = Promise.resolve().then(() => load(id));
    models.set(id, p);
    p.catch(() => models.get(id) === p && models.delete(id));
    return p;
  };
}
