import { rankByMetric, rankingCsv, type Candidate } from './compare.js';

const c = (model: string, metrics: Record<string, number>): Candidate => ({ runId: `id-${model}`, runName: model, model, metrics, params: {} });

test('ranks by the metric in the asked direction, missing and NaN last, ties by model name', () => {
  const candidates = [c('b', { auc: 0.7 }), c('a', { auc: 0.7 }), c('z', {}), c('n', { auc: Number.NaN }), c('top', { auc: 0.9 })];
  expect(rankByMetric(candidates, 'auc', true).map((r) => `${r.rank}:${r.model}`)).toEqual(['1:top', '2:a', '3:b', '4:n', '5:z']);
  expect(rankByMetric(candidates, 'auc', false).map((r) => r.model)).toEqual(['a', 'b', 'top', 'n', 'z']);
});

test('CSV quotes cells that need it and leaves missing values empty', () => {
  const ranked = rankByMetric([c('m,1', { auc: 0.5 }), c('m2', {})], 'auc', true);
  expect(rankingCsv(ranked, ['auc', 'loss'])).toBe('rank,model,run_id,score,auc,loss\n1,"m,1","id-m,1",0.5,0.5,\n2,m2,id-m2,,,\n');
  expect(rankingCsv(ranked, ['auc'], { runIds: false })).toBe('rank,model,score,auc\n1,"m,1",0.5,0.5\n2,m2,,\n');
});
