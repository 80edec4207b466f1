#!/usr/bin/env node
/**
 * The `ray-ts rllib` command (also the `ray-ts-rllib` bin), as RLlib's `rllib train` for quick
 * experiments:
 *
 *   ray-ts rllib train --algo PPO --env CartPole-v1 [--stop '{"episodeReturnMean": 450}'] [--config '{"lr": 0.0005}']
 *                      [--num-env-runners N] [--seed S] [--checkpoint-dir DIR] [--address HOST:PORT]
 *   ray-ts rllib evaluate <checkpoint-dir> [--episodes N] [--address HOST:PORT]
 *
 * `train` shows an iteration bar on a terminal (out of `--stop`'s trainingIteration when given, with
 * its ETA, the latest return and env steps; one line per iteration when not on a terminal) and stops
 * at the first `--stop` criterion reached (result keys, each a minimum: episodeReturnMean,
 * trainingIteration, numEnvStepsSampledLifetime, timeTotalS...).
 */
import { Command, InvalidArgumentError as CliArgError } from 'commander';
import { init, runCommand, runIfEntryScript, shutdown } from '@ray-ts/core';
import { Algorithm, configFor } from './algorithm.js';
import type { TrainResult } from './algorithm-results.js';
import { barPostfix, iterationBar } from './cli-progress.js';
import './index.js';

function json(what: string) {
  return (v: string): Record<string, unknown> => {
    try {
      const o = JSON.parse(v) as unknown;
      if (o && typeof o === 'object' && !Array.isArray(o)) return o as Record<string, unknown>;
    } catch {
      // reported below
    }
    throw new CliArgError(`${what} takes a JSON object, e.g. '{"episodeReturnMean": 450}'`);
  };
}

function int(what: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new CliArgError(`${what} takes a whole number`);
    return n;
  };
}

const fmt = (x: number | undefined, d = 1) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));

/** The line printed for a result. */
export function progressLine(r: TrainResult): string {
  return (
    `iter ${r.trainingIteration}  return ${fmt(r.episodeReturnMean)} (min ${fmt(r.episodeReturnMin)}, max ${fmt(r.episodeReturnMax)})  ` +
    `len ${fmt(r.episodeLenMean)}  steps ${r.numEnvStepsSampledLifetime}  ${fmt(r.timeTotalS)} s` +
    (r.evaluation ? `  eval ${fmt(r.evaluation.episodeReturnMean)}` : '')
  );
}

/** The first stop criterion `r` reaches, if any. */
export function reached(r: TrainResult, stop: Record<string, unknown>): string | undefined {
  for (const [k, v] of Object.entries(stop)) {
    const got = (r as unknown as Record<string, unknown>)[k];
    if (typeof got === 'number' && typeof v === 'number' && got >= v) return `${k} ${fmt(got, 2)} >= ${v}`;
  }
  return undefined;
}

function program(onExit: (code: number) => void): Command {
  const cmd = new Command('ray-ts rllib').description('train and evaluate RLlib algorithms').exitOverride();
  cmd
    .command('train')
    .description('train an algorithm on an environment until a stop criterion')
    .requiredOption('--algo <name>', 'the algorithm: PPO, DQN, SAC')
    .requiredOption('--env <name>', 'a registered environment, e.g. CartPole-v1')
    .option('--stop <json>', 'stop criteria: result keys and the values to reach', json('--stop'), {
      trainingIteration: 20,
    })
    .option(
      '--config <json>',
      'training options, e.g. \'{"lr": 0.0005, "trainBatchSize": 2000}\'',
      json('--config'),
      {},
    )
    .option('--num-env-runners <n>', 'env runner actors', int('--num-env-runners'))
    .option('--seed <n>', 'seed', int('--seed'))
    .option('--checkpoint-dir <dir>', 'save the algorithm there at the end')
    .option('--address <host:port>', 'a running cluster (default: one in this process)')
    .action(
      async (o: {
        algo: string;
        env: string;
        stop: Record<string, unknown>;
        config: Record<string, unknown>;
        numEnvRunners?: number;
        seed?: number;
        checkpointDir?: string;
        address?: string;
      }) => {
        // The algorithm's defaults, then the command line's choices (each checked by the config).
        const config = configFor(o.algo.toUpperCase());
        config.environment(o.env);
        if (Object.keys(o.config).length) config.training(o.config as never);
        if (o.numEnvRunners !== undefined) config.envRunners({ numEnvRunners: o.numEnvRunners });
        if (o.seed !== undefined) config.debugging({ seed: o.seed });
        await init(o.address ? { address: o.address } : {});
        const a = config.build();
        const bar = iterationBar(o.algo.toUpperCase(), o.stop, process.stdout);
        try {
          for (;;) {
            const r = await a.train();
            if (bar.enabled) bar.update(r.trainingIteration, barPostfix(r));
            else console.log(progressLine(r));
            const why = reached(r, o.stop);
            if (why) {
              bar.close();
              console.log(
                `stopped: ${why} after ${r.trainingIteration} iterations, ${r.numEnvStepsSampledLifetime} env steps, ${fmt(r.timeTotalS)} s`,
              );
              break;
            }
          }
          if (o.checkpointDir) console.log(`saved to ${await a.save(o.checkpointDir)}`);
        } finally {
          bar.close();
          await a.stop();
          await shutdown();
        }
        onExit(0);
      },
    );
  cmd
    .command('evaluate')
    .description('play greedy episodes with a saved algorithm')
    .argument('<checkpoint-dir>', 'a folder written by algo.save() or train --checkpoint-dir')
    .option('--episodes <n>', 'episodes', int('--episodes'), 10)
    .option('--address <host:port>', 'a running cluster (default: one in this process)')
    .action(async (dir: string, o: { episodes: number; address?: string }) => {
      await init(o.address ? { address: o.address } : {});
      const a = await Algorithm.fromCheckpoint(dir);
      try {
        a.config.evaluation({ evaluationDuration: o.episodes });
        const e = await a.evaluate();
        console.log(
          `evaluated ${e.numEpisodes} episodes: return ${fmt(e.episodeReturnMean)} (min ${fmt(e.episodeReturnMin)}, max ${fmt(e.episodeReturnMax)}), length ${fmt(e.episodeLenMean)}`,
        );
      } finally {
        await a.stop();
        await shutdown();
      }
      onExit(0);
    });
  return cmd;
}

/** Runs the command line; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  return runCommand(
    'rllib',
    program((c) => (code = c)),
    argv,
    () => code,
  );
}

runIfEntryScript(import.meta.url, main);
