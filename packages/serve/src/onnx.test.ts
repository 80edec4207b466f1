import { expect, it } from 'vitest';
import { ServeInvalidArgumentError } from './errors.js';
import { loadOnnxRuntime } from './onnx.js';

it('says what to install when onnxruntime-node is missing, and loads it when present', async () => {
  const missing = Object.assign(new Error("Cannot find package 'onnxruntime-node'"), { code: 'ERR_MODULE_NOT_FOUND' });
  const err = await loadOnnxRuntime(() => Promise.reject(missing)).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ServeInvalidArgumentError);
  expect((err as Error).message).toMatch(/onnxDeployment needs onnxruntime-node.*npm install onnxruntime-node/);
  // Any other failure is its own.
  await expect(loadOnnxRuntime(() => Promise.reject(new Error('bad binary')))).rejects.toThrow('bad binary');
  const ort = await loadOnnxRuntime();
  expect(typeof ort.InferenceSession.create).toBe('function');
});
