/**
 * `ray-ts logs ...` (Ray's `ray logs`): list a node's log files and print one, an actor's, a
 * task's, a worker's or a job's, optionally following it, through the head's log API
 * (cluster/log-api.ts) with the cluster's token.
 */
import type { Command } from 'commander';
import { jobApi, type CliContext } from './cli-job.js';

interface CommonFlags {
  address?: string;
  nodeId?: string;
  nodeIp?: string;
  follow?: boolean;
  tail: string;
  err?: boolean;
}

const addressHelp =
  'the head: HOST:PORT of the cluster, or http://HOST:PORT of its API (default: RAY_TS_ADDRESS or the head started here)';

function common(cmd: Command, node = true): Command {
  cmd
    .option('--address <address>', addressHelp)
    .option('-f, --follow', 'keep printing what is written, until interrupted (Ctrl-C)')
    .option('--tail <n>', 'print the last N lines (-1: all)', '1000')
    .option('--err', 'the stderr log (.err) instead of stdout (.out)');
  if (node)
    cmd
      .option('--node-id <id>', 'the node (default: the head, or for a worker or task, the node that has it)')
      .option('--node-ip <ip>', 'the node at this address');
  return cmd;
}

function tailOf(ctx: CliContext, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n)) ctx.fail(`--tail must be a whole number (-1: all); got '${raw}'.`);
  return n;
}

/** Prints a log to stdout; with --follow, until Ctrl-C. */
async function print(ctx: CliContext, f: CommonFlags, which: Record<string, string | number | undefined>) {
  const { getLogAt } = await import('./cluster/log-client.js');
  const base = await jobApi(ctx, f.address);
  const ac = new AbortController();
  process.once('SIGINT', () => ac.abort());
  try {
    for await (const text of getLogAt(
      base,
      { ...which, nodeId: f.nodeId, nodeIp: f.nodeIp, tail: tailOf(ctx, f.tail), err: f.err, follow: f.follow },
      ac.signal,
    ))
      process.stdout.write(text);
  } catch (err) {
    ctx.fail((err as Error).message);
  }
}

/** Lists the files of a node (matching `glob`), or prints the one file that matches. */
async function listOrPrint(ctx: CliContext, glob: string | undefined, f: CommonFlags): Promise<void> {
  const { listLogsAt } = await import('./cluster/log-client.js');
  const base = await jobApi(ctx, f.address);
  let listed: Awaited<ReturnType<typeof listLogsAt>>;
  try {
    listed = await listLogsAt(base, { nodeId: f.nodeId, nodeIp: f.nodeIp, glob });
  } catch (err) {
    ctx.fail((err as Error).message);
  }
  if (glob && listed.files.length === 1) {
    await print(ctx, { ...f, nodeId: listed.nodeId }, { filename: listed.files[0].name });
    return;
  }
  if (glob && listed.files.length === 0) ctx.fail(`no log file of node ${listed.nodeId} matches '${glob}'.`);
  console.log(`Node ${listed.nodeId}: ${listed.files.length} log file${listed.files.length === 1 ? '' : 's'}`);
  for (const category of Object.keys(listed.byCategory).sort()) {
    console.log(`${category}/`);
    for (const file of listed.files.filter((x) => x.category === category))
      console.log(`  ${file.name}  (${file.sizeBytes} bytes)`);
  }
  if (!glob) console.log(`Print one: ray-ts logs <file name> --node-id ${listed.nodeId}`);
}

/** Adds `ray-ts logs [GLOB]`, `logs cluster|actor|task|worker|job` to `program`. */
export function registerLogsCommands(program: Command, ctx: CliContext): void {
  const logs = common(
    program
      .command('logs')
      .description("list a node's log files, or print one (Ray's `ray logs`): ray-ts logs [GLOB]")
      .argument(
        '[glob]',
        'a file name, or a glob of them (e.g. "worker-*.err"): one match is printed, more are listed',
      ),
  ).action((glob: string | undefined, f: CommonFlags) => listOrPrint(ctx, glob, f));
  common(logs.command('cluster').description("the head's (or --node-id's) log files, or one of them"))
    .argument('[glob]', 'a file name, or a glob of them')
    .action((glob: string | undefined, f: CommonFlags) => listOrPrint(ctx, glob, f));
  common(logs.command('actor').description("an actor's log (its worker's output)"), false)
    .option('--id <id>', "the actor's id")
    .option('--name <name>', "the actor's name")
    .option('--namespace <ns>', 'the namespace of --name', 'default')
    .action((f: CommonFlags & { id?: string; name?: string; namespace: string }) => {
      if (!f.id === !f.name) ctx.fail('give the actor as --id ID or --name NAME.');
      return print(ctx, f, f.id ? { actorId: f.id } : { actorName: f.name, namespace: f.namespace });
    });
  common(logs.command('task').description('the lines a task (or an actor call) printed'))
    .requiredOption('--id <id>', "the task's id")
    .action((f: CommonFlags & { id: string }) => print(ctx, f, { taskId: f.id }));
  common(logs.command('worker').description("a worker process's log"))
    .requiredOption('--pid <pid>', "the worker's pid")
    .action((f: CommonFlags & { pid: string }) => {
      if (!/^\d+$/.test(f.pid)) ctx.fail(`--pid must be a process id; got '${f.pid}'.`);
      return print(ctx, f, { pid: Number(f.pid) });
    });
  common(logs.command('job').description("a submitted job's driver log"), false)
    .requiredOption('--id <submission id>', "the job's submission id")
    .action((f: CommonFlags & { id: string }) => print(ctx, f, { submissionId: f.id }));
}
