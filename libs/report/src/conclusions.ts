/**
 * Conclusions computed from the analysed data. Each one is a sentence plus the numbers it rests on (`numbers`, as
 * computed, unrounded) and a stable `id`, so a test, or a reader, can trace every claim to the table it came from.
 */
import type { Analysis, ModelAnalysis } from './analyze.js';
import { bytes, ci, duration, fmt, pct, signed } from './format.js';
import { METRIC_LABELS, type MetricName } from './stats.js';

export type ConclusionKind = 'best' | 'baseline' | 'difference' | 'fit' | 'threshold' | 'cost' | 'data' | 'consistency';

export interface Conclusion {
  /** Stable id: `best`, `baseline:<model>`, `baseline-accuracy:<model>`, `difference:<a>:<b>`, `fit:<model>`, `threshold:<model>`, `cost`, `data:dropped`, `data:balance`, `consistency:<model>`. */
  id: string;
  kind: ConclusionKind;
  /** `warning`: something that weakens a comparison or a model; `info`: a finding. */
  severity: 'info' | 'warning';
  text: string;
  /** The numbers the sentence rests on, unrounded. */
  numbers: Record<string, number>;
  /** Where the numbers come from. */
  source: string;
}

const label = (m: MetricName): string => METRIC_LABELS[m];

/** Builds every conclusion the data supports; parts without data give none (their sections say why). */
export function buildConclusions(a: Analysis): Conclusion[] {
  const out: Conclusion[] = [];
  const metric = a.metric;
  const level = a.bootstrap.available ? `${Math.round(a.bootstrap.value.confidence * 100)}% CI` : '';
  const bootSource = a.bootstrap.available ? a.bootstrap.source : '';

  // Best model and its margin over the runner-up.
  const [first, second] = a.ranking;
  if (first) {
    const m = a.models.find((x) => x.name === first.model)!;
    const numbers: Record<string, number> = { value: first.value };
    let text = `${first.model} has the best ${label(metric)}: ${fmt(first.value)}`;
    if (first.interval) {
      numbers['lo'] = first.interval.lo;
      numbers['hi'] = first.interval.hi;
      text += ` (${level} ${ci(first.interval.lo, first.interval.hi)})`;
    }
    if (second) {
      const pair = a.bootstrap.available ? findPair(a, first.model, second.model, metric) : undefined;
      const margin = first.value - second.value;
      numbers['margin'] = margin;
      numbers['runnerUp'] = second.value;
      text += `, ${signed(margin)} over ${second.model} (${fmt(second.value)})`;
      if (pair) {
        numbers['marginLo'] = pair.lo;
        numbers['marginHi'] = pair.hi;
        text += `; the margin's ${level} is ${ci(pair.lo, pair.hi, 4, true)}, ${pair.significant ? 'so the lead is significant' : 'which includes 0: the lead is not significant'}`;
      } else text += '; no interval (no paired test predictions)';
    }
    out.push({ id: 'best', kind: 'best', severity: 'info', text: `${text}.`, numbers, source: pair0Source(m, bootSource) });
  }

  // Each model vs the majority-class baseline.
  if (a.baseline.available) {
    const base = a.baseline.value;
    const bv = base.metrics[metric];
    for (const row of a.ranking) {
      if (bv === undefined || !row.vsBaseline) continue;
      const vb = row.vsBaseline;
      const numbers: Record<string, number> = { value: row.value, baseline: bv, diff: vb.diff };
      let text = `${row.model} ${vb.beats ? 'beats' : 'does not beat'} the ${base.name} baseline on ${label(metric)}: ${fmt(row.value)} vs ${fmt(bv)} (${signed(vb.diff)}`;
      if (vb.lo !== undefined && vb.hi !== undefined) {
        numbers['lo'] = vb.lo;
        numbers['hi'] = vb.hi;
        text += `, ${level} ${ci(vb.lo, vb.hi, 4, true)}${vb.beats && !vb.significant ? ', not significant' : ''}`;
      }
      text += ')';
      const m = a.models.find((x) => x.name === row.model)!;
      const source = a.bootstrap.available ? bootSource : `${m.metrics.available ? m.metrics.source : row.model}; baseline: ${a.baseline.source}`;
      out.push({ id: `baseline:${row.model}`, kind: 'baseline', severity: vb.beats && vb.significant !== false ? 'info' : 'warning', text: `${text}.`, numbers, source });
      // Accuracy against the majority class is the classic trap of imbalanced data: say so when it happens.
      if (metric !== 'accuracy') {
        const acc = m.metrics.available ? m.metrics.value.accuracy : undefined;
        const bacc = base.metrics.accuracy;
        if (acc !== undefined && bacc !== undefined && acc <= bacc) {
          out.push({
            id: `baseline-accuracy:${row.model}`,
            kind: 'baseline',
            severity: 'warning',
            text: `${row.model}'s accuracy ${fmt(acc)} is not above the baseline's ${fmt(bacc)}: at threshold ${a.threshold} always answering the majority class is right more often, so accuracy cannot show what the model learned (compare ${label(metric)}, F1, recall).`,
            numbers: { accuracy: acc, baselineAccuracy: bacc },
            source: m.metrics.available ? m.metrics.source : '',
          });
        }
      }
    }
  }

  // Pairwise differences on the chosen metric.
  if (a.bootstrap.available) {
    for (const p of a.bootstrap.value.pairs) {
      if (p.metric !== metric || !a.models.some((m) => m.name === p.b)) continue;
      const text = p.significant
        ? `${p.a} vs ${p.b}: ${label(metric)} differs by ${signed(p.estimate)} (${level} ${ci(p.lo, p.hi, 4, true)}, bootstrap p ${fmt(p.pValue, 3)}): significant.`
        : `${p.a} vs ${p.b}: ${label(metric)} difference ${signed(p.estimate)} (${level} ${ci(p.lo, p.hi, 4, true)}, bootstrap p ${fmt(p.pValue, 3)}) includes 0: not significant — on this test set the two cannot be told apart.`;
      out.push({ id: `difference:${p.a}:${p.b}`, kind: 'difference', severity: 'info', text, numbers: { diff: p.estimate, lo: p.lo, hi: p.hi, pValue: p.pValue, significant: p.significant ? 1 : 0 }, source: bootSource });
    }
  }

  for (const m of a.models) {
    const fit = fitConclusion(m, a);
    if (fit) out.push(fit);
  }

  // Precision/recall trade-off at the chosen threshold.
  for (const m of a.models) {
    if (!m.threshold.available) continue;
    const { chosen, bestF1 } = m.threshold.value;
    const pos = a.positiveClass ?? 'positive';
    let text = `At threshold ${a.threshold}, ${m.name} flags ${pct(chosen.flagged)} of test rows as ${pos}: precision ${fmt(chosen.precision, 3)}, recall ${fmt(chosen.recall, 3)}, F1 ${fmt(chosen.f1, 3)}.`;
    if (bestF1.f1 > chosen.f1 + 1e-9) {
      text += ` A threshold of ${fmt(bestF1.threshold, 3)} would give F1 ${fmt(bestF1.f1, 3)} (precision ${fmt(bestF1.precision, 3)}, recall ${fmt(bestF1.recall, 3)}, ${pct(bestF1.flagged)} flagged) — read off the test set, so optimistic: choose it on the validation split.`;
    } else text += ' No other threshold gives a higher F1 on the test set.';
    out.push({
      id: `threshold:${m.name}`,
      kind: 'threshold',
      severity: 'info',
      text,
      numbers: { threshold: a.threshold, precision: chosen.precision, recall: chosen.recall, f1: chosen.f1, flagged: chosen.flagged, bestThreshold: bestF1.threshold, bestF1: bestF1.f1 },
      source: m.threshold.source,
    });
  }

  const cost = costConclusion(a);
  if (cost) out.push(cost);
  out.push(...dataConclusions(a));

  for (const m of a.models) {
    if (m.mismatches.length === 0) continue;
    const worst = m.mismatches[0]!;
    out.push({
      id: `consistency:${m.name}`,
      kind: 'consistency',
      severity: 'warning',
      text: `${m.name}: the eval file and the test predictions disagree on ${m.mismatches.map((x) => `${label(x.metric)} (${fmt(x.eval)} vs ${fmt(x.predictions)})`).join(', ')}: they do not come from the same evaluation; the report uses the predictions.`,
      numbers: { eval: worst.eval, predictions: worst.predictions },
      source: `${m.metrics.available ? m.metrics.source : ''} and metrics/eval/${m.name}.json`,
    });
  }
  return out;
}

function findPair(a: Analysis, x: string, y: string, metric: MetricName) {
  if (!a.bootstrap.available) return undefined;
  const direct = a.bootstrap.value.pairs.find((p) => p.metric === metric && p.a === x && p.b === y);
  if (direct) return direct;
  const rev = a.bootstrap.value.pairs.find((p) => p.metric === metric && p.a === y && p.b === x);
  return rev ? { ...rev, a: x, b: y, estimate: -rev.estimate, lo: -rev.hi, hi: -rev.lo } : undefined;
}

function pair0Source(m: ModelAnalysis, bootSource: string): string {
  return [m.metrics.available ? m.metrics.source : '', bootSource].filter(Boolean).join('; ');
}

/** Over/under-fitting from the train vs valid loss curves and the best (lowest valid loss) epoch. */
function fitConclusion(m: ModelAnalysis, a: Analysis): Conclusion | undefined {
  if (!m.history.available) return undefined;
  const h = m.history.value;
  const withValid = h.filter((e) => e.valLoss !== undefined);
  const last = h[h.length - 1]!;
  if (withValid.length === 0) {
    return { id: `fit:${m.name}`, kind: 'fit', severity: 'warning', text: `${m.name}: the history has no validation loss, so over- or under-fitting cannot be read from it (${h.length} epochs, final train loss ${fmt(last.loss)}).`, numbers: { epochs: h.length, trainLoss: last.loss }, source: m.history.source };
  }
  const best = withValid.reduce((b, e) => (e.valLoss! < b.valLoss! ? e : b));
  const lastV = withValid[withValid.length - 1]!;
  const first = h[0]!;
  const rise = (lastV.valLoss! - best.valLoss!) / best.valLoss!;
  const trainFall = (best.loss - lastV.loss) / best.loss;
  const gap = (best.valLoss! - best.loss) / best.loss;
  const baseLoss = a.baseline.available ? a.baseline.value.metrics.log_loss : undefined;
  const numbers: Record<string, number> = { bestEpoch: best.epoch, epochs: h.length, lastEpoch: last.epoch, bestValidLoss: best.valLoss!, trainLossAtBest: best.loss, lastValidLoss: lastV.valLoss!, lastTrainLoss: lastV.loss, validRise: rise, gapAtBest: gap };
  const epochs = `best epoch ${best.epoch} of ${last.epoch}`;
  let text: string;
  let severity: Conclusion['severity'] = 'info';
  if (rise > 0.02 && trainFall > 0) {
    severity = 'warning';
    text = `${m.name} overfits after epoch ${best.epoch}: valid loss rose ${pct(rise)} (${fmt(best.valLoss)} → ${fmt(lastV.valLoss)} at epoch ${lastV.epoch}) while train loss fell ${fmt(best.loss)} → ${fmt(lastV.loss)}; ${epochs}${m.history.value.some((e) => e.improved !== undefined) ? ' (early stopping keeps the best epoch\'s weights)' : ''}.`;
  } else if (last.epoch > best.epoch && trainFall > 0.005) {
    text = `${m.name} starts to overfit after epoch ${best.epoch}: over the next ${lastV.epoch - best.epoch} epochs train loss fell ${pct(trainFall)} (${fmt(best.loss)} → ${fmt(lastV.loss)}) while valid loss did not improve (${fmt(best.valLoss)} → ${fmt(lastV.valLoss)}); training stopped at epoch ${last.epoch}, ${epochs}.`;
  } else if (rise > 0.02) {
    severity = 'warning';
    text = `${m.name}: valid loss rose ${pct(rise)} after epoch ${best.epoch} (${fmt(best.valLoss)} → ${fmt(lastV.valLoss)}) while train loss did not fall (${fmt(best.loss)} → ${fmt(lastV.loss)}): training became unstable (learning rate too high?); ${epochs}.`;
  } else if (best.epoch === last.epoch && h.length > 1) {
    severity = 'warning';
    text = `${m.name} was still improving at its last epoch (${epochs}, valid loss ${fmt(first.valLoss)} → ${fmt(best.valLoss)}): it may underfit, more epochs could help.`;
  } else if (gap > 0.1) {
    severity = 'warning';
    text = `${m.name}: at its ${epochs} the valid loss ${fmt(best.valLoss)} is ${pct(gap)} above the train loss ${fmt(best.loss)}: a generalisation gap (some overfitting).`;
  } else {
    text = `${m.name} fits without a sign of overfitting: ${epochs}, valid loss ${fmt(best.valLoss)} vs train loss ${fmt(best.loss)} (gap ${signed(gap * 100, 1)}%), valid loss ${fmt(lastV.valLoss)} at the last epoch.`;
  }
  if (baseLoss !== undefined && Number.isFinite(baseLoss) && best.valLoss! >= baseLoss * 0.98) {
    severity = 'warning';
    numbers['baselineLogLoss'] = baseLoss;
    text += ` Its best valid loss ${fmt(best.valLoss)} is not clearly below the baseline's test log loss ${fmt(baseLoss)}: as probabilities it does no better than the class prior (class weighting in training, if used, explains part of that): rank it by ROC AUC rather than log loss.`;
  }
  return { id: `fit:${m.name}`, kind: 'fit', severity, text, numbers, source: m.history.source };
}

function costConclusion(a: Analysis): Conclusion | undefined {
  const costs = a.models.filter((m) => m.cost.available).map((m) => ({ name: m.name, c: (m.cost as Extract<ModelAnalysis['cost'], { available: true }>).value }));
  if (costs.length === 0) return undefined;
  const parts: string[] = [];
  const numbers: Record<string, number> = {};
  const timed = costs.filter((x) => x.c.trainSeconds !== undefined).sort((x, y) => x.c.trainSeconds! - y.c.trainSeconds!);
  if (timed.length > 0) {
    const fast = timed[0]!;
    const slow = timed[timed.length - 1]!;
    numbers['fastestSeconds'] = fast.c.trainSeconds!;
    numbers['slowestSeconds'] = slow.c.trainSeconds!;
    parts.push(timed.length > 1 ? `${fast.name} trains fastest (${duration(fast.c.trainSeconds!)}), ${slow.name} slowest (${duration(slow.c.trainSeconds!)}, ${fmt(slow.c.trainSeconds! / Math.max(fast.c.trainSeconds!, 1e-9), 1)}×)` : `${fast.name} trained in ${duration(fast.c.trainSeconds!)}`);
  }
  const rps = costs.filter((x) => x.c.rowsPerSecond !== undefined).sort((x, y) => y.c.rowsPerSecond! - x.c.rowsPerSecond!);
  if (rps.length > 0) {
    numbers['maxRowsPerSecond'] = rps[0]!.c.rowsPerSecond!;
    parts.push(`highest throughput ${rps[0]!.name} (${Math.round(rps[0]!.c.rowsPerSecond!).toLocaleString('en-US')} rows/s)`);
  }
  const sized = costs.filter((x) => x.c.modelBytes !== undefined).sort((x, y) => x.c.modelBytes! - y.c.modelBytes!);
  if (sized.length > 0) {
    numbers['smallestBytes'] = sized[0]!.c.modelBytes!;
    numbers['largestBytes'] = sized[sized.length - 1]!.c.modelBytes!;
    parts.push(sized.length > 1 ? `smallest ${sized[0]!.name} (${bytes(sized[0]!.c.modelBytes!)}), largest ${sized[sized.length - 1]!.name} (${bytes(sized[sized.length - 1]!.c.modelBytes!)})` : `${sized[0]!.name} is ${bytes(sized[0]!.c.modelBytes!)}`);
  }
  let text = `Cost: ${parts.join('; ')}.`;
  const best = a.ranking[0];
  const bestCost = costs.find((x) => x.name === best?.model)?.c;
  if (best && bestCost?.trainSeconds !== undefined && timed.length > 1 && timed[0]!.name !== best.model) {
    const cheap = timed[0]!;
    const cheapRow = a.ranking.find((r) => r.model === cheap.name);
    if (cheapRow) {
      const ratio = bestCost.trainSeconds / Math.max(cheap.c.trainSeconds!, 1e-9);
      numbers['bestMarginOverCheapest'] = best.value - cheapRow.value;
      numbers['bestTimeRatio'] = ratio;
      const pair = findPair(a, best.model, cheap.name, a.metric);
      text += ` The best model's ${signed(best.value - cheapRow.value)} ${label(a.metric)} over ${cheap.name} costs ${fmt(ratio, 1)}× its training time${pair ? (pair.significant ? ' (a significant gain)' : ', for a gain that is not significant') : ''}.`;
    }
  }
  return { id: 'cost', kind: 'cost', severity: 'info', text, numbers, source: costs.map((x) => (a.models.find((m) => m.name === x.name)!.cost as { source: string }).source).join(', ') };
}

function dataConclusions(a: Analysis): Conclusion[] {
  const q = a.input.dataset?.quality;
  if (!q) return [];
  const source = a.input.dataset?.sources?.quality ?? 'metrics/data_quality.json';
  const out: Conclusion[] = [];
  if (q.rows?.in !== undefined && q.rows.out !== undefined) {
    const dropped = q.rows.dropped ?? q.rows.in - q.rows.out;
    const share = q.rows.in > 0 ? dropped / q.rows.in : 0;
    const why = Object.entries(q.dropped ?? {}).filter(([, v]) => v > 0).map(([k, v]) => `${k.replaceAll('_', ' ')} ${v.toLocaleString('en-US')}`);
    const clipped = Object.entries(q.clipped ?? {}).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`);
    out.push({
      id: 'data:dropped',
      kind: 'data',
      severity: share > 0.05 ? 'warning' : 'info',
      text: `${dropped.toLocaleString('en-US')} of ${q.rows.in.toLocaleString('en-US')} rows (${pct(share, 2)}) were dropped in preparation${why.length ? ` (${why.join(', ')})` : ''}${share > 0.05 ? ': more than 5%, check what was lost' : ''}${clipped.length ? `; values clipped: ${clipped.join(', ')}` : ''}.`,
      numbers: { dropped, rowsIn: q.rows.in, rowsOut: q.rows.out, share },
      source,
    });
  }
  const balance = q.class_balance ?? (q.class_counts ? normalise(q.class_counts) : undefined);
  if (balance && Object.keys(balance).length > 1) {
    const entries = Object.entries(balance).sort((x, y) => y[1] - x[1]);
    const [major, minor] = [entries[0]!, entries[entries.length - 1]!];
    const imbalanced = minor[1] < 0.5 / entries.length * 1.2;
    out.push({
      id: 'data:balance',
      kind: 'data',
      severity: imbalanced ? 'warning' : 'info',
      text: `Class balance: ${entries.map(([k, v]) => `${k} ${pct(v)}`).join(', ')}.${imbalanced ? ` Imbalanced: always predicting ${major[0]} is right ${pct(major[1])} of the time, so accuracy flatters; ROC AUC, F1 and recall of ${minor[0]} say more.` : ''}`,
      numbers: { majorShare: major[1], minorShare: minor[1] },
      source,
    });
  }
  return out;
}

function normalise(counts: Record<string, number>): Record<string, number> {
  const total = Object.values(counts).reduce((s, v) => s + v, 0);
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, total > 0 ? v / total : 0]));
}
