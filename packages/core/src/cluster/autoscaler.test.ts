import { expect, it } from 'vitest';
import { parseClusterConfig } from './autoscaler.js';

it('parses a cluster config with defaults', () => {
  const c = parseClusterConfig('nodeTypes:\n  cpu:\n    resources: { CPU: 2 }\n    maxWorkers: 3\n');
  expect(c).toMatchObject({ maxWorkers: 3, idleTimeoutS: 60, head: { resources: { CPU: 1 } } });
  expect(c.nodeTypes.cpu).toEqual({ resources: { CPU: 2 }, minWorkers: 0, maxWorkers: 3 });
});

it('says what is wrong with a bad config', () => {
  expect(() => parseClusterConfig('maxWorkers: 2')).toThrow(/needs nodeTypes/);
  expect(() => parseClusterConfig('nodeTypes: { a: { resources: { CPU: -1 } } }')).toThrow(
    /nodeTypes.a.resources.CPU must be a number >= 0/,
  );
  expect(() => parseClusterConfig('nodeTypes: { a: { resources: { CPU: 1 }, minWorkers: 3, maxWorkers: 1 } }')).toThrow(
    /minWorkers \(3\) is above maxWorkers \(1\)/,
  );
  expect(() => parseClusterConfig('nodeType: {}')).toThrow(/Unknown key 'nodeType'/);
  expect(() => parseClusterConfig('a: [')).toThrow(/not valid YAML/);
});
