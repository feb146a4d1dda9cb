#!/usr/bin/env node
// Stage compare: rank this pipeline run's models through MLflow, write metrics/compare.{json,csv}, register the best.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { mlflowConfigFromEnv } from '@mlops-ts/mlflow-client';
import { paramsSection, readParamsFile, runStage, writeFileAtomic } from '@mlops-ts/stage-kit';
import { CompareParamsSchema, openMlflowTracking, rankingCsv, rankMlflowRuns, registerChampion, RunFileSchema, TrackingParamsSchema, type RunFile } from '@mlops-ts/tracking';
import { z } from 'zod';

const program = new Command('compare')
  .description('Rank the runs of the models in params.yaml by compare.metric and register the best under compare.alias.')
  .option('--params <file>', 'params file', 'params.yaml')
  .option('--models <dir>', 'folder of trained models', 'models')
  .option('--out <file>', 'ranking (JSON; a CSV is written beside it)', 'metrics/compare.json')
  .exitOverride();

async function main(): Promise<void> {
  const args = program.parse().opts<{ params: string; models: string; out: string }>();
  const log = (line: string) => process.stderr.write(`[compare] ${line}\n`);
  const params = await readParamsFile(args.params);
  const compare = paramsSection(params, 'compare', CompareParamsSchema, args.params);
  const tracking = paramsSection(params, 'tracking', TrackingParamsSchema, args.params);
  const models = Object.keys(paramsSection(params, 'models', z.record(z.string(), z.unknown()), args.params));
  const runFiles: RunFile[] = [];
  for (const name of models) {
    const file = join(args.models, name, 'run.json');
    const text = await readFile(file, 'utf8').catch(() => {
      throw new Error(`${file} not found: run the train@${name} stage first`);
    });
    const runFile = RunFileSchema.parse(JSON.parse(text));
    if (!runFile.ref['mlflow']) throw new Error(`${file}: model ${name} was trained without MLflow tracking; retrain it with a tracking server to compare`);
    runFiles.push(runFile);
  }
  const opened = await openMlflowTracking({ config: mlflowConfigFromEnv(process.env), localDir: '.mlflow', spillDir: '.mlflow-spill', log });
  try {
    const metric = `test_${compare.metric}`;
    const ranked = await rankMlflowRuns({ client: opened.client, experiment: tracking.experiment, runIds: runFiles.map((r) => r.ref['mlflow']!), metric, higherIsBetter: compare.higher_is_better });
    const best = ranked[0]!;
    if (best.score === null) throw new Error(`no run has metric ${metric}: run the evaluate stages first`);
    for (const r of ranked) log(`${r.rank}. ${r.model.padEnd(16)} ${metric}=${r.score ?? 'n/a'}  run ${r.runId}`);
    const version = await registerChampion({ client: opened.client, name: compare.registered_model, best, metric, alias: compare.alias });
    log(`registered ${compare.registered_model} version ${version.version} (${best.model}) as @${compare.alias}`);
    const metricKeys = [...new Set(ranked.flatMap((r) => Object.keys(r.metrics).filter((k) => k.startsWith('test_'))))].sort();
    const summary = {
      metric,
      higher_is_better: compare.higher_is_better,
      best: { model: best.model, run_id: best.runId, score: best.score },
      registered: { name: compare.registered_model, version: version.version, alias: compare.alias },
      ranking: ranked.map((r) => ({ rank: r.rank, model: r.model, run_id: r.runId, score: r.score, ...Object.fromEntries(metricKeys.map((k) => [k, r.metrics[k] ?? null])) })),
    };
    await writeFileAtomic(args.out, JSON.stringify(summary, null, 2) + '\n');
    await writeFileAtomic(args.out.replace(/\.json$/, '') + '.csv', rankingCsv(ranked, metricKeys));
  } finally {
    await opened.close();
  }
}

process.exitCode = await runStage('compare', main);
