/**
 * Cluster configs (`ray-ts up cluster.yaml`), in the shape of Ray's cluster launcher YAML: keys in
 * camelCase or as Ray spells them (snake_case), checked field by field; a mistake names the file,
 * the line and the field, and what to write instead.
 *
 * ```yaml
 * cluster_name: onprem
 * max_workers: 2
 * idle_timeout_minutes: 5
 * provider: { type: ssh, head_ip: 10.0.0.1, worker_ips: [10.0.0.2, 10.0.0.3] }   # Ray's `local` type too
 * auth: { ssh_user: ubuntu, ssh_private_key: ~/.ssh/id_ed25519 }
 * available_node_types:
 *   head: { resources: { CPU: 2 } }
 *   cpu: { resources: { CPU: 4 }, min_workers: 0, max_workers: 2 }
 * head_node_type: head
 * file_mounts: { /srv/app: ./app }
 * setup_commands: [npm install -g @ray-ts/core]
 * ```
 *
 * Without a `provider` (or with `type: local` and no `head_ip`), `up` starts the head and its
 * nodes as processes of this machine. ray-ts's earlier keys (`nodeTypes`, `head.resources`,
 * `idleTimeoutS`) are still read.
 */
import path from 'node:path';
import os from 'node:os';
import { LineCounter, isMap, isScalar, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { InvalidArgumentError } from '../errors.js';

/** A node type of the cluster config (`available_node_types.<name>`). */
export interface NodeTypeConfig {
  resources: Record<string, number>;
  minWorkers: number;
  maxWorkers: number;
  /** Provider-specific settings of the type (`node_config`): kept as written. */
  nodeConfig?: Record<string, unknown>;
}

/** What the autoscaler needs of a cluster config. */
export interface AutoscalerConfig {
  clusterName: string;
  /** Worker nodes at most, all types together. */
  maxWorkers: number;
  /** A worker node idle this long is stopped (above its type's minWorkers). */
  idleTimeoutS: number;
  head: { resources: Record<string, number> };
  /** The worker node types. */
  nodeTypes: Record<string, NodeTypeConfig>;
}

/** Where nodes come from. */
export type ProviderConfig =
  /** Processes of the machine that runs `up`. */
  | { type: 'local' }
  /** Machines reached over SSH (Ray's `local` provider with `head_ip` and `worker_ips`). */
  | { type: 'ssh'; headIp: string; workerIps: string[]; sshPort: number }
  /**
   * Worker nodes as Slurm jobs (`sbatch`, one node each), the head on the machine that runs `up`
   * (a login node), at `headIp` (default: this machine's first non-loopback IPv4 address).
   */
  | {
      type: 'slurm';
      partition: string | undefined;
      account: string | undefined;
      headIp: string | undefined;
      sbatchOptions: string[];
    }
  /**
   * Worker nodes as pods (the head runs in the cluster: deploy/kubernetes/), created and deleted
   * through the Kubernetes API with the head pod's service account.
   */
  | {
      type: 'kubernetes';
      namespace: string | undefined;
      /** The worker pods' image (a node type's node_config.image overrides it). */
      image: string;
      /** The head's Service: workers join at `<headService>.<namespace>.svc:6380`. */
      headService: string;
      /** The Secret holding the cluster token (key `token`). */
      authTokenSecret: string;
      serviceAccountName: string | undefined;
    };

/** A cluster config whose provider is of type `T`. */
export type ClusterConfigOf<T extends ProviderConfig['type']> = ClusterConfig & {
  provider: Extract<ProviderConfig, { type: T }>;
};

/** A whole cluster config, checked. */
export interface ClusterConfig extends AutoscalerConfig {
  provider: ProviderConfig;
  auth: { sshUser: string; sshPrivateKey: string | undefined };
  headNodeType: string | undefined;
  /** Every node type as written, the head's included. */
  availableNodeTypes: Record<string, NodeTypeConfig>;
  /** Run on every host before the setup commands (Ray's `initialization_commands`). */
  initializationCommands: string[];
  setupCommands: string[];
  headSetupCommands: string[];
  workerSetupCommands: string[];
  /** Replace the default start commands (undefined: ray-ts's own, see launcher.ts). */
  headStartRayCommands: string[] | undefined;
  workerStartRayCommands: string[] | undefined;
  /** Remote path -> local path (a file or a folder), copied to every host before its setup commands. */
  fileMounts: Record<string, string>;
  /** rsync patterns left out of the file mounts. */
  rsyncExclude: string[];
}

type Path = (string | number)[];

/** Ray's keys that ray-ts does not implement, and what to do instead. */
const UNSUPPORTED: Record<string, string> = {
  docker: 'ray-ts runs on the hosts themselves: install Node.js and ray-ts in setupCommands (or an image of your own)',
  cluster_synced_files: 'list the files in fileMounts',
  file_mounts_sync_continuously: 'run `ray-ts up` again to sync the file mounts',
  head_node: 'use available_node_types and head_node_type (Ray deprecated head_node)',
  worker_nodes: 'use available_node_types (Ray deprecated worker_nodes)',
};

const KEYS: Record<string, string> = {
  cluster_name: 'clusterName',
  max_workers: 'maxWorkers',
  upscaling_speed: 'upscalingSpeed',
  idle_timeout_minutes: 'idleTimeoutMinutes',
  idleTimeoutS: 'idleTimeoutS',
  provider: 'provider',
  auth: 'auth',
  available_node_types: 'availableNodeTypes',
  nodeTypes: 'availableNodeTypes',
  head_node_type: 'headNodeType',
  head: 'head',
  initialization_commands: 'initializationCommands',
  setup_commands: 'setupCommands',
  head_setup_commands: 'headSetupCommands',
  worker_setup_commands: 'workerSetupCommands',
  head_start_ray_commands: 'headStartRayCommands',
  worker_start_ray_commands: 'workerStartRayCommands',
  file_mounts: 'fileMounts',
  rsync_exclude: 'rsyncExclude',
};
const PROVIDER_KEYS: Record<string, string> = {
  type: 'type',
  head_ip: 'headIp',
  worker_ips: 'workerIps',
  ssh_port: 'sshPort',
  partition: 'partition',
  account: 'account',
  sbatch_options: 'sbatchOptions',
  namespace: 'namespace',
  image: 'image',
  head_service: 'headService',
  auth_token_secret: 'authTokenSecret',
  service_account_name: 'serviceAccountName',
};
const AUTH_KEYS: Record<string, string> = { ssh_user: 'sshUser', ssh_private_key: 'sshPrivateKey' };
const TYPE_KEYS: Record<string, string> = {
  resources: 'resources',
  min_workers: 'minWorkers',
  max_workers: 'maxWorkers',
  node_config: 'nodeConfig',
};

/** Accepts a key as Ray spells it or in camelCase: the camelCase name, or undefined. */
function canonical(key: string, table: Record<string, string>): string | undefined {
  if (key in table) return table[key];
  return Object.values(table).includes(key) ? key : undefined;
}

/** The config's text: its YAML document and where each node is, for messages. */
class Source {
  private readonly lines = new LineCounter();
  readonly doc: Document;

  constructor(
    text: string,
    readonly name: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false });
    const [err] = this.doc.errors;
    if (err)
      throw new InvalidArgumentError(
        `${name}:${this.lines.linePos(err.pos[0]).line}: the cluster config is not valid YAML: ${err.message.split('\n')[0]}`,
      );
  }

  fail(p: Path, message: string): never {
    let node: unknown = this.doc.getIn(p, true);
    const key = p[p.length - 1];
    const parent: unknown = this.doc.getIn(p.slice(0, -1), true);
    if (isMap(parent)) node = parent.items.find((it) => isScalar(it.key) && it.key.value === key)?.key ?? node;
    const offset = (node as YamlNode | undefined)?.range?.[0];
    const where = offset === undefined ? this.name : `${this.name}:${this.lines.linePos(offset).line}`;
    throw new InvalidArgumentError(`${where}: ${p.length ? `${p.join('.')}: ` : ''}${message}`);
  }
}

const isMapping = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** A mapping's keys, checked against `table` and renamed to camelCase. */
function keysOf(src: Source, p: Path, v: unknown, table: Record<string, string>, what: string) {
  if (!isMapping(v)) src.fail(p, `${what} must be a mapping; got ${JSON.stringify(v)}.`);
  const out = new Map<string, { key: string; value: unknown }>();
  for (const [k, value] of Object.entries(v)) {
    if (p.length === 0 && k in UNSUPPORTED) src.fail([k], `not supported: ${UNSUPPORTED[k]}.`);
    const c = canonical(k, table);
    if (!c) src.fail([...p, k], `unknown key '${k}' in ${what}. Known: ${Object.keys(table).join(', ')}.`);
    if (out.has(c)) src.fail([...p, k], `'${k}' repeats '${out.get(c)!.key}'.`);
    if (value !== null && value !== undefined) out.set(c, { key: k, value });
  }
  return out;
}

function str(src: Source, p: Path, v: unknown): string {
  if (typeof v !== 'string' || !v) src.fail(p, `must be a non-empty string; got ${JSON.stringify(v)}.`);
  return v;
}

function int(src: Source, p: Path, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    src.fail(p, `must be an integer >= 0; got ${JSON.stringify(v)}.`);
  return v;
}

function strings(src: Source, p: Path, v: unknown): string[] {
  if (!Array.isArray(v)) src.fail(p, `must be a list of strings; got ${JSON.stringify(v)}.`);
  return v.map((s, i) => str(src, [...p, i], s));
}

function resourcesOf(src: Source, p: Path, v: unknown): Record<string, number> {
  if (!isMapping(v)) src.fail(p, `must be a map like { CPU: 2 }; got ${JSON.stringify(v)}.`);
  for (const [k, n] of Object.entries(v))
    if (typeof n !== 'number' || !(n >= 0)) src.fail([...p, k], `must be a number >= 0; got ${JSON.stringify(n)}.`);
  return v as Record<string, number>;
}

/** `~/x` as this user's home (the config is read on the machine that runs `up`). */
function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

function providerOf(src: Source, v: unknown): ProviderConfig {
  if (v === undefined) return { type: 'local' };
  const f = keysOf(src, ['provider'], v, PROVIDER_KEYS, 'provider');
  const type = f.get('type') ? str(src, ['provider', f.get('type')!.key], f.get('type')!.value) : 'local';
  const at = (k: string): Path => ['provider', f.get(k)?.key ?? k];
  if (!['local', 'ssh', 'slurm', 'kubernetes'].includes(type))
    src.fail(
      at('type'),
      `'${type}' is not a provider ray-ts has: use local (this machine), ssh (hosts you list), slurm (jobs of a ` +
        'Slurm cluster) or kubernetes (pods).',
    );
  const only = (keys: string[]) => {
    // Named as Ray spells them.
    const names = keys.map((k) => Object.keys(PROVIDER_KEYS).find((sk) => PROVIDER_KEYS[sk] === k) ?? k);
    for (const [k] of f)
      if (k !== 'type' && !keys.includes(k))
        src.fail(at(k), `not a setting of the ${type} provider (it takes ${names.join(', ')}).`);
  };

  if (type === 'slurm') {
    only(['partition', 'account', 'headIp', 'sbatchOptions']);
    const opt = (k: string) => (f.get(k) ? str(src, at(k), f.get(k)!.value) : undefined);
    return {
      type: 'slurm',
      partition: opt('partition'),
      account: opt('account'),
      headIp: opt('headIp'),
      sbatchOptions: f.get('sbatchOptions') ? strings(src, at('sbatchOptions'), f.get('sbatchOptions')!.value) : [],
    };
  }
  if (type === 'kubernetes') {
    only(['namespace', 'image', 'headService', 'authTokenSecret', 'serviceAccountName']);
    const opt = (k: string) => (f.get(k) ? str(src, at(k), f.get(k)!.value) : undefined);
    const name = (k: string, dflt: string) => {
      const v = opt(k) ?? dflt;
      if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(v))
        src.fail(at(k), `'${v}' is not a Kubernetes object name (lowercase letters, digits, '-' and '.').`);
      return v;
    };
    return {
      type: 'kubernetes',
      namespace: opt('namespace') === undefined ? undefined : name('namespace', ''),
      image: opt('image') ?? src.fail(['provider'], "a kubernetes provider needs image: the worker pods' image."),
      headService: name('headService', 'ray-ts-head'),
      authTokenSecret: name('authTokenSecret', 'ray-ts-token'),
      serviceAccountName: opt('serviceAccountName'),
    };
  }
  only(['headIp', 'workerIps', 'sshPort']);
  if (type === 'local' && !f.has('headIp') && !f.has('workerIps')) return { type: 'local' };
  // Ray's `local` type with head_ip/worker_ips is its on-premise provider: SSH.
  const headIp = f.get('headIp')
    ? str(src, at('headIp'), f.get('headIp')!.value)
    : src.fail(['provider'], 'an ssh provider needs head_ip: the host that runs the head node.');
  const workerIps = f.get('workerIps') ? strings(src, at('workerIps'), f.get('workerIps')!.value) : [];
  const seen = new Set([headIp]);
  for (const [i, ip] of workerIps.entries()) {
    if (seen.has(ip)) src.fail([...at('workerIps'), i], `${ip} is listed twice (or is the head): one node per host.`);
    seen.add(ip);
  }
  const sshPort = f.get('sshPort') ? int(src, at('sshPort'), f.get('sshPort')!.value) : 22;
  return { type: 'ssh', headIp, workerIps, sshPort };
}

/** Parses and checks a cluster config (YAML or JSON text); `name` (the file) prefixes messages. */
export function parseClusterConfig(text: string, name = 'cluster config'): ClusterConfig {
  const src: Source = new Source(text, name);
  const raw: unknown = src.doc.toJS();
  if (!isMapping(raw))
    src.fail([], 'the cluster config must be a mapping with available_node_types, max_workers, provider, ...');
  const f = keysOf(src, [], raw, KEYS, 'the cluster config');
  const at = (k: string): Path => [f.get(k)?.key ?? k];
  const val = (k: string) => f.get(k)?.value;

  const provider = providerOf(src, val('provider'));
  const authMap = val('auth') === undefined ? new Map() : keysOf(src, at('auth'), val('auth'), AUTH_KEYS, 'auth');
  const authAt = (k: string): Path => [...at('auth'), authMap.get(k)?.key ?? k];
  const auth = {
    sshUser: authMap.get('sshUser')
      ? str(src, authAt('sshUser'), authMap.get('sshUser').value)
      : os.userInfo().username,
    sshPrivateKey: authMap.get('sshPrivateKey')
      ? expandHome(str(src, authAt('sshPrivateKey'), authMap.get('sshPrivateKey').value))
      : undefined,
  };
  if (provider.type === 'ssh' && !auth.sshPrivateKey)
    src.fail(at('auth'), 'an ssh provider needs auth.ssh_private_key: the key that logs in to every host.');

  const typesRaw = val('availableNodeTypes');
  if (!isMapping(typesRaw) || Object.keys(typesRaw).length === 0)
    src.fail(
      at('availableNodeTypes'),
      'the cluster config needs available_node_types: { <name>: { resources: { CPU: 2 }, min_workers, max_workers } }.',
    );
  const headNodeType =
    val('headNodeType') === undefined ? undefined : str(src, at('headNodeType'), val('headNodeType'));
  if (headNodeType !== undefined && !(headNodeType in typesRaw))
    src.fail(
      at('headNodeType'),
      `'${headNodeType}' is not one of available_node_types (${Object.keys(typesRaw).join(', ')}).`,
    );
  const globalMax = val('maxWorkers') !== undefined ? int(src, at('maxWorkers'), val('maxWorkers')) : undefined;
  const all: Record<string, NodeTypeConfig> = {};
  for (const [tname, t] of Object.entries(typesRaw)) {
    const p = [...at('availableNodeTypes'), tname];
    const tf = keysOf(src, p, t, TYPE_KEYS, `node type '${tname}'`);
    const tAt = (k: string): Path => [...p, tf.get(k)?.key ?? k];
    const minWorkers = tf.get('minWorkers') ? int(src, tAt('minWorkers'), tf.get('minWorkers')!.value) : 0;
    // Ray's defaults: none of the head's type, else the cluster's max_workers.
    const maxWorkers = tf.get('maxWorkers')
      ? int(src, tAt('maxWorkers'), tf.get('maxWorkers')!.value)
      : tname === headNodeType
        ? minWorkers
        : Math.max(globalMax ?? 1, minWorkers);
    if (minWorkers > maxWorkers)
      src.fail(tAt('minWorkers'), `min_workers (${minWorkers}) is above max_workers (${maxWorkers}).`);
    if (!tf.get('resources')) src.fail(p, 'needs resources, e.g. { CPU: 2 }.');
    const nodeConfig = tf.get('nodeConfig')?.value;
    if (nodeConfig !== undefined && !isMapping(nodeConfig)) src.fail(tAt('nodeConfig'), 'must be a mapping.');
    all[tname] = {
      resources: resourcesOf(src, tAt('resources'), tf.get('resources')!.value),
      minWorkers,
      maxWorkers,
      ...(nodeConfig ? { nodeConfig } : {}),
    };
  }
  let headResources: Record<string, number> = { CPU: 1 };
  if (headNodeType !== undefined) headResources = all[headNodeType].resources;
  else if (val('head') !== undefined) {
    const h = val('head');
    if (!isMapping(h) || Object.keys(h).some((k) => k !== 'resources'))
      src.fail(at('head'), 'must be { resources: { CPU: 1 } } (or name a type in head_node_type).');
    if (h.resources !== undefined) headResources = resourcesOf(src, [...at('head'), 'resources'], h.resources);
  }
  // The head's own type is a worker type too only when it allows workers (Ray's rule).
  const nodeTypes = Object.fromEntries(
    Object.entries(all).filter(([n, t]) => n !== headNodeType || t.maxWorkers > 0 || t.minWorkers > 0),
  );

  const sumMax = Object.values(nodeTypes).reduce((a, t) => a + t.maxWorkers, 0);
  const maxWorkers = globalMax ?? sumMax;
  if (provider.type === 'ssh' && Math.min(maxWorkers, sumMax) > provider.workerIps.length)
    src.fail(
      at('maxWorkers'),
      `up to ${Math.min(maxWorkers, sumMax)} workers, but provider.worker_ips lists ${provider.workerIps.length} hosts ` +
        '(one node per host): list more hosts or lower max_workers.',
    );
  if (val('upscalingSpeed') !== undefined) {
    const s = val('upscalingSpeed');
    if (typeof s !== 'number' || !(s > 0)) src.fail(at('upscalingSpeed'), 'must be a number > 0.');
  }
  let idleTimeoutS = 60 * 5; // Ray's default: 5 minutes
  if (val('idleTimeoutMinutes') !== undefined) {
    const m = val('idleTimeoutMinutes');
    if (typeof m !== 'number' || !(m >= 0)) src.fail(at('idleTimeoutMinutes'), 'must be a number of minutes >= 0.');
    idleTimeoutS = m * 60;
  } else if (val('idleTimeoutS') !== undefined) {
    const s = val('idleTimeoutS');
    if (typeof s !== 'number' || !(s >= 0)) src.fail(at('idleTimeoutS'), 'must be a number of seconds >= 0.');
    idleTimeoutS = s;
  }
  const cmds = (k: string) => (val(k) === undefined ? [] : strings(src, at(k), val(k)));
  const fileMounts: Record<string, string> = {};
  if (val('fileMounts') !== undefined) {
    const m = val('fileMounts');
    if (!isMapping(m)) src.fail(at('fileMounts'), 'must map remote paths to local ones: { /srv/app: ./app }.');
    for (const [remote, local] of Object.entries(m)) {
      if (!path.isAbsolute(remote) && !remote.startsWith('~/'))
        src.fail(
          [...at('fileMounts'), remote],
          `the remote path must be absolute (or start with ~/); got '${remote}'.`,
        );
      fileMounts[remote] = expandHome(str(src, [...at('fileMounts'), remote], local));
    }
  }
  if (provider.type === 'slurm' && Object.keys(fileMounts).length)
    src.fail(
      at('fileMounts'),
      'the slurm provider copies no files: its nodes share a file system with the login node; put the files there.',
    );
  if (provider.type === 'kubernetes' && Object.keys(fileMounts).length)
    src.fail(at('fileMounts'), 'the kubernetes provider copies no files: put them in the image, or mount a volume.');
  const clusterName = val('clusterName') === undefined ? 'default' : str(src, at('clusterName'), val('clusterName'));
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(clusterName))
    src.fail(at('clusterName'), 'use letters, digits, dot, dash and underscore (it names folders on the hosts).');
  return {
    clusterName,
    maxWorkers,
    idleTimeoutS,
    head: { resources: headResources },
    nodeTypes,
    provider,
    auth,
    headNodeType,
    availableNodeTypes: all,
    initializationCommands: cmds('initializationCommands'),
    setupCommands: cmds('setupCommands'),
    headSetupCommands: cmds('headSetupCommands'),
    workerSetupCommands: cmds('workerSetupCommands'),
    headStartRayCommands: val('headStartRayCommands') === undefined ? undefined : cmds('headStartRayCommands'),
    workerStartRayCommands: val('workerStartRayCommands') === undefined ? undefined : cmds('workerStartRayCommands'),
    fileMounts,
    rsyncExclude: cmds('rsyncExclude'),
  };
}

/**
 * The config as the head's autoscaler reads it (`ray-ts start --head --autoscaling-config`): the
 * same cluster, with the key at its path on the head and each file mount copied from the head's
 * own copy (already at its remote path). parseClusterConfig reads it back as it is.
 */
export function headBootstrapConfig(c: ClusterConfig, keyOnHead: string | undefined): Record<string, unknown> {
  return {
    clusterName: c.clusterName,
    maxWorkers: c.maxWorkers,
    idleTimeoutS: c.idleTimeoutS,
    provider: c.provider,
    auth: { sshUser: c.auth.sshUser, ...(keyOnHead ? { sshPrivateKey: keyOnHead } : {}) },
    availableNodeTypes: c.availableNodeTypes,
    ...(c.headNodeType ? { headNodeType: c.headNodeType } : { head: c.head }),
    initializationCommands: c.initializationCommands,
    setupCommands: c.setupCommands,
    headSetupCommands: c.headSetupCommands,
    workerSetupCommands: c.workerSetupCommands,
    ...(c.headStartRayCommands ? { headStartRayCommands: c.headStartRayCommands } : {}),
    ...(c.workerStartRayCommands ? { workerStartRayCommands: c.workerStartRayCommands } : {}),
    fileMounts: Object.fromEntries(Object.keys(c.fileMounts).map((remote) => [remote, remote])),
    rsyncExclude: c.rsyncExclude,
  };
}
