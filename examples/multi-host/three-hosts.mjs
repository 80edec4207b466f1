// Runs main.js as on three machines, on this one: the head and a worker node each in a network
// namespace with its own address (TestHosts from @ray-ts/core/testing; needs root), neither able
// to see this folder, and the driver on this host. Usage: sudo node three-hosts.mjs
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cluster, TestHosts } from '@ray-ts/core/testing';

const here = path.dirname(fileURLToPath(import.meta.url));
const hosts = TestHosts.create(2, { hide: [here] });
let cluster;
try {
  cluster = await Cluster.start({
    head: { numCpus: 2, host: hosts.hosts[0] },
    nodes: [{ numCpus: 2, host: hosts.hosts[1] }],
  });
  console.log(
    `head on ${hosts.hosts[0].address}, worker node on ${hosts.hosts[1].address}, driver on ${hosts.local.address}`,
  );
  const driver = spawn(process.execPath, [path.join(here, 'main.js')], {
    env: { ...process.env, RAY_TS_ADDRESS: cluster.address },
    stdio: 'inherit',
  });
  const code = await new Promise((resolve) => driver.on('exit', resolve));
  process.exitCode = code ?? 1;
} finally {
  await cluster?.shutdown();
  hosts.destroy();
}
