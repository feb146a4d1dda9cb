import { existsSync } from 'node:fs';
import { loadTable, usedColumns, validateSchema, type DataParams } from '@mlops-ts/data-prep';
import { StageParamsError, validateSections, type ParamsProblem } from '@mlops-ts/stage-kit';
import { allParamsSections } from './stages.js';

export interface CheckResult {
  problems: ParamsProblem[];
  /** What was checked besides the sections (or why the columns were not). */
  note: string;
}

/**
 * What `npm run check` does before a pipeline run: every stage's params sections (`STAGE_PARAMS`), unknown
 * top-level sections, and the columns `data` names against the raw table's schema. Every problem at once.
 */
export function checkPipelineParams(params: Record<string, unknown>, file: string, opts: { columns?: boolean } = {}): CheckResult {
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
    if (!(key in sections)) problems.push({ key, message: `unknown section (the stages read ${Object.keys(sections).join(', ')})` });
  }
  const data = valid['data'] as DataParams | undefined;
  if (!data || opts.columns === false) return { problems, note: '' };
  if (!existsSync(data.path)) return { problems, note: `; columns not checked: ${data.path} is not there (run npm run pipeline or the ingest stage)` };
  const df = loadTable({ path: data.path, format: data.format });
  const used = usedColumns(data);
  const missing = used.filter((c) => !df.columns.includes(c.column));
  for (const c of missing) {
    problems.push({ key: c.role === 'target' ? 'data.target.column' : `data.features.${c.role}`, message: `column "${c.column}" is not in ${data.path} (columns are: ${df.columns.join(', ')})` });
  }
  if (missing.length === 0) {
    try {
      validateSchema(df, data, data.path);
    } catch (error) {
      problems.push({ key: 'data.features', message: error instanceof Error ? error.message : String(error) });
    }
  }
  return { problems, note: `; the ${used.length} columns it uses are in ${data.path}` };
}
