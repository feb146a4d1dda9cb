#!/usr/bin/env node
// npm run check: every stage's params sections (the schemas the stages declare, STAGE_PARAMS) and the feature columns
// against the raw table's schema, before anything runs; every problem at once, exit 2.
import { existsSync } from 'node:fs';
import { loadTable, usedColumns, validateSchema, type DataParams } from '@mlops-ts/data-prep';
import { allParamsSections } from '@mlops-ts/pipeline';
import { defineStage, readParamsFile, StageParamsError, validateSections, type ParamsProblem } from '@mlops-ts/stage-kit';
import { z } from 'zod';

/** Top-level keys of params.yaml that are not a stage's section but are allowed (none today). */
const OTHER_SECTIONS = new Set<string>();

const stage = defineStage({
  name: 'check',
  description: "Validate every stage's params and the feature columns against the raw table's schema; list every problem at once (exit 2).",
  cli: (p) => p.option('--params <file>', 'params file', 'params.yaml').option('--no-columns', 'skip reading the raw table'),
  args: z.object({ params: z.string(), columns: z.boolean() }),
  async run({ options, log }) {
    const file = options.params;
    const params = await readParamsFile(file);
    const sections = allParamsSections();
    const problems: ParamsProblem[] = [];
    const valid: Record<string, unknown> = {};
    for (const [name, schema] of Object.entries(sections)) {
      try {
        Object.assign(valid, validateSections(params, { [name]: schema }, file));
      } catch (error) {
        if (!(error instanceof StageParamsError)) throw error;
        problems.push(...error.problems);
      }
    }
    for (const key of Object.keys(params)) {
      if (!(key in sections) && !OTHER_SECTIONS.has(key)) problems.push({ key, message: `unknown section (the stages read ${Object.keys(sections).join(', ')})` });
    }
    let columnsNote = '';
    const data = valid['data'] as DataParams | undefined;
    if (data && options.columns) {
      if (!existsSync(data.path)) columnsNote = `; columns not checked: ${data.path} is not there (run npm run pipeline or the ingest stage)`;
      else {
        const df = loadTable({ path: data.path, format: data.format });
        const available = df.columns;
        const missing = usedColumns(data).filter((c) => !available.includes(c.column));
        const keyOf = (role: string) => (role === 'target' ? 'data.target.column' : `data.features.${role}`);
        for (const c of missing) problems.push({ key: keyOf(c.role), message: `column "${c.column}" is not in ${data.path} (columns are: ${available.join(', ')})` });
        if (missing.length === 0) {
          try {
            validateSchema(df, data, data.path);
          } catch (error) {
            problems.push({ key: 'data.features', message: error instanceof Error ? error.message : String(error) });
          }
        }
        columnsNote = `; the ${usedColumns(data).length} columns it uses are in ${data.path}`;
      }
    }
    if (problems.length > 0) throw new StageParamsError(file, problems);
    log(`${file}: the params of every stage are valid${columnsNote}`);
  },
});

void stage.main(process.argv.slice(2), { env: process.env }).then((code) => {
  process.exitCode = code;
});
