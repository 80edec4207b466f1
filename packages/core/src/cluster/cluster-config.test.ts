import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.js';
import { parseClusterConfig } from './cluster-config.js';

const RAY_STYLE = `cluster_name: onprem
max_workers: 2
idle_timeout_minutes: 0.5
provider:
  type: local
  head_ip: 10.0.0.1
  worker_ips: [10.0.0.2, 10.0.0.3]
auth:
  ssh_user: ubuntu
  ssh_private_key: ~/.ssh/key.pem
available_node_types:
  head: { resources: { CPU: 2 } }
  cpu:
    resources: { CPU: 4, box: 1 }
    min_workers: 1
    node_config: { anything: kept }
head_node_type: head
file_mounts: { /srv/app: ./app }
setup_commands: [echo a]
worker_setup_commands: [echo w]
worker_start_ray_commands: [ray-ts start --address=$RAY_HEAD_IP:6380]
`;

describe('parseClusterConfig', () => {
  it("reads Ray's snake_case cluster YAML: Ray's local type with head_ip is the ssh provider", () => {
    const c = parseClusterConfig(RAY_STYLE);
    expect(c.provider).toEqual({ type: 'ssh', headIp: '10.0.0.1', workerIps: ['10.0.0.2', '10.0.0.3'], sshPort: 22 });
    expect(c.auth).toEqual({ sshUser: 'ubuntu', sshPrivateKey: path.join(os.homedir(), '.ssh/key.pem') });
    expect(c.idleTimeoutS).toBe(30);
    expect(c.head.resources).toEqual({ CPU: 2 });
    // The head's type allows no workers by default, so it is not a worker type; others default to max_workers.
    expect(c.nodeTypes).toEqual({
      cpu: { resources: { CPU: 4, box: 1 }, minWorkers: 1, maxWorkers: 2, nodeConfig: { anything: 'kept' } },
    });
    expect(c.fileMounts).toEqual({ '/srv/app': './app' });
    expect(c.setupCommands).toEqual(['echo a']);
    expect(c.headStartRayCommands).toBeUndefined();
    expect(c.workerStartRayCommands).toEqual(['ray-ts start --address=$RAY_HEAD_IP:6380']);
  });

  it('reads the same in camelCase, and the earlier ray-ts keys', () => {
    const camel = parseClusterConfig(
      'clusterName: c\nprovider: { type: ssh, headIp: h, workerIps: [w] }\nauth: { sshPrivateKey: /k }\n' +
        'availableNodeTypes: { a: { resources: { CPU: 1 }, maxWorkers: 1 } }\n',
    );
    expect(camel.provider).toMatchObject({ type: 'ssh', headIp: 'h', workerIps: ['w'] });
    const old = parseClusterConfig(
      'idleTimeoutS: 2\nhead: { resources: { CPU: 3 } }\nnodeTypes: { a: { resources: { CPU: 1 } } }',
    );
    expect(old).toMatchObject({ provider: { type: 'local' }, idleTimeoutS: 2, head: { resources: { CPU: 3 } } });
    expect(old.nodeTypes.a).toEqual({ resources: { CPU: 1 }, minWorkers: 0, maxWorkers: 1 });
  });

  it('reads a slurm provider, and refuses what it does not do', () => {
    const c = parseClusterConfig(
      'provider: { type: slurm, partition: debug, sbatch_options: [--time=1:00:00] }\n' +
        'available_node_types: { cpu: { resources: { CPU: 4 }, max_workers: 8, node_config: { sbatch_options: [--mem=8G] } } }',
    );
    expect(c.provider).toEqual({
      type: 'slurm',
      partition: 'debug',
      account: undefined,
      headIp: undefined,
      sbatchOptions: ['--time=1:00:00'],
    });
    expect(c.nodeTypes.cpu.nodeConfig).toEqual({ sbatch_options: ['--mem=8G'] });
    expect(() =>
      parseClusterConfig('provider: { type: slurm, worker_ips: [a] }\navailable_node_types: { a: { resources: {} } }'),
    ).toThrow(
      /provider.worker_ips: not a setting of the slurm provider \(it takes partition, account, head_ip, sbatch_options\)/,
    );
    expect(() =>
      parseClusterConfig(
        'provider: { type: slurm }\navailable_node_types: { a: { resources: {} } }\nfile_mounts: { /x: ./y }',
      ),
    ).toThrow(/the slurm provider copies no files/);
  });

  it('names the file, line and field of a mistake, and what to write', () => {
    const bad = (text: string) => {
      try {
        parseClusterConfig(text, 'c.yaml');
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidArgumentError);
        return (err as Error).message;
      }
      throw new Error('no error');
    };
    expect(bad('max_workers: 2')).toMatch(/^c\.yaml: .*needs available_node_types/);
    expect(bad('available_node_types:\n  a:\n    resources: { CPU: -1 }')).toBe(
      'c.yaml:3: available_node_types.a.resources.CPU: must be a number >= 0; got -1.',
    );
    expect(bad('available_node_types:\n  a: { resources: { CPU: 1 }, min_workers: 3, max_workers: 1 }')).toMatch(
      /^c\.yaml:2: .*min_workers \(3\) is above max_workers \(1\)/,
    );
    expect(bad('nodeTypes: { a: { resources: { CPU: 1 } } }\nnode_type: {}')).toMatch(
      /^c\.yaml:2: node_type: unknown key 'node_type' in the cluster config\. Known: cluster_name/,
    );
    expect(bad('docker: { image: x }')).toMatch(
      /^c\.yaml:1: docker: not supported: ray-ts runs on the hosts themselves: install Node\.js/,
    );
    expect(bad('a: [')).toMatch(/^c\.yaml:1: the cluster config is not valid YAML/);
    const ssh = 'available_node_types: { w: { resources: { CPU: 1 }, max_workers: 3 } }\n';
    expect(bad(`${ssh}provider: { type: ssh, head_ip: h, worker_ips: [a] }`)).toMatch(/ssh_private_key/);
    expect(bad(`${ssh}provider: { type: ssh, head_ip: h, worker_ips: [a] }\nauth: { ssh_private_key: /k }`)).toMatch(
      /up to 3 workers, but provider.worker_ips lists 1 hosts/,
    );
    expect(bad(`${ssh}provider: { type: ssh, head_ip: h, worker_ips: [a, h] }`)).toMatch(
      /^c\.yaml:2: provider.worker_ips.1: h is listed twice/,
    );
    expect(bad(`${ssh}provider: { type: aws }`)).toMatch(/'aws' is not a provider ray-ts has/);
    expect(bad(`${ssh}head_node_type: nope`)).toMatch(/^c\.yaml:2: head_node_type: 'nope' is not one of/);
    expect(bad(`${ssh}file_mounts: { rel/path: ./x }`)).toMatch(/remote path must be absolute/);
    expect(bad(`${ssh}cluster_name: 'a b'`)).toMatch(/cluster_name: use letters/);
  });
});
