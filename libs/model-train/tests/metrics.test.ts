import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { evaluatePredictions } from '../src/evaluate.js';
import {
  accuracy,
  argmaxRows,
  confusionMatrix,
  downsampleCurve,
  logLoss,
  perClassScores,
  precisionRecallF1,
  rocAuc,
  rocAucOvr,
  rocCurve,
} from '../src/metrics.js';
import { mulberry32 } from '../src/random.js';

describe('metrics on hand-computed examples', () => {
  it('confusion matrix, accuracy, binary precision/recall/F1', () => {
    const yTrue = [0, 1, 1, 1, 0, 1];
    const yPred = [0, 1, 0, 1, 1, 1];
    const cm = confusionMatrix(yTrue, yPred, 2);
    expect(cm).toEqual([
      [1, 1],
      [1, 3],
    ]);
    expect(accuracy(yTrue, yPred)).toBeCloseTo(4 / 6, 12);
    expect(precisionRecallF1(cm, 'binary')).toEqual({ precision: 0.75, recall: 0.75, f1: 0.75 });
    const macro = precisionRecallF1(cm, 'macro');
    expect(macro.precision).toBeCloseTo((0.5 + 0.75) / 2, 12);
    expect(macro.f1).toBeCloseTo((0.5 + 0.75) / 2, 12);
  });

  it('multiclass macro averages', () => {
    const cm = confusionMatrix([0, 1, 2, 2, 1, 0], [0, 2, 2, 2, 1, 1], 3);
    expect(cm).toEqual([
      [1, 1, 0],
      [0, 1, 1],
      [0, 0, 2],
    ]);
    const m = precisionRecallF1(cm, 'macro');
    expect(m.precision).toBeCloseTo((1 + 0.5 + 2 / 3) / 3, 12);
    expect(m.recall).toBeCloseTo((0.5 + 0.5 + 1) / 3, 12);
    expect(m.f1).toBeCloseTo((2 / 3 + 0.5 + 0.8) / 3, 12);
    expect(perClassScores(cm).map((s) => s.support)).toEqual([2, 2, 2]);
  });

  it('a class never predicted has precision 0, not NaN', () => {
    const cm = confusionMatrix([0, 1, 1], [0, 0, 0], 2);
    expect(precisionRecallF1(cm, 'binary')).toEqual({ precision: 0, recall: 0, f1: 0 });
  });

  it('ROC curve and AUC (the classic 4-point example)', () => {
    const y = [0, 0, 1, 1];
    const s = [0.1, 0.4, 0.35, 0.8];
    expect(rocCurve(y, s)).toEqual({
      fpr: [0, 0, 0.5, 0.5, 1],
      tpr: [0, 0.5, 0.5, 1, 1],
      thresholds: [Infinity, 0.8, 0.4, 0.35, 0.1],
    });
    expect(rocAuc(y, s)).toBeCloseTo(0.75, 12);
  });

  it('ROC AUC counts tied scores as half', () => {
    // positive/negative pairs: (0.5,0.5)=1/2, (0.5,0.2)=1, (0.9,0.5)=1, (0.9,0.2)=1 → 3.5 / 4
    expect(rocAuc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9])).toBeCloseTo(0.875, 12);
    expect(rocAuc([1, 1], [0.3, 0.4])).toBeNaN();
  });

  it('macro one-vs-rest AUC and log loss', () => {
    // perfectly ranked per class → 1
    const proba = [0.8, 0.1, 0.1, 0.1, 0.8, 0.1, 0.2, 0.2, 0.6];
    expect(rocAucOvr([0, 1, 2], proba, 3)).toBeCloseTo(1, 12);
    expect(logLoss([1, 0], [0.2, 0.8, 0.6, 0.4], 2)).toBeCloseTo(-(Math.log(0.8) + Math.log(0.6)) / 2, 12);
    // clipping keeps a confident mistake finite
    expect(logLoss([1], [1, 0], 2)).toBeCloseTo(-Math.log(1e-7), 6);
    expect(Array.from(argmaxRows(proba, 3))).toEqual([0, 1, 2]);
  });

  it('downsampling keeps the ends, stays monotone and bounded', () => {
    const n = 5000;
    const random = mulberry32(7);
    const y = Array.from({ length: n }, () => (random() < 0.4 ? 1 : 0));
    const s = y.map((v) => v * 0.3 + random());
    const full = rocCurve(y, s);
    expect(full.fpr.length).toBeGreaterThan(1000);
    const small = downsampleCurve(full, 101);
    expect(small.fpr.length).toBeLessThanOrEqual(101);
    expect(small.fpr.length).toBeGreaterThan(50);
    expect([small.fpr[0], small.tpr[0]]).toEqual([0, 0]);
    expect([small.fpr.at(-1), small.tpr.at(-1)]).toEqual([1, 1]);
    for (let i = 1; i < small.fpr.length; i++) {
      expect(small.fpr[i]!).toBeGreaterThanOrEqual(small.fpr[i - 1]!);
      expect(small.tpr[i]!).toBeGreaterThanOrEqual(small.tpr[i - 1]!);
    }
    expect(downsampleCurve(rocCurve([0, 1], [0.2, 0.7]), 101).fpr).toEqual([0, 0, 1]);
  });

  it('rejects mismatched lengths and out-of-range labels', () => {
    expect(() => confusionMatrix([0, 1], [0], 2)).toThrow(/length mismatch/);
    expect(() => confusionMatrix([0, 3], [0, 1], 2)).toThrow(/out of range/);
    expect(() => logLoss([0, 1], [0.5, 0.5], 2)).toThrow(/expected 2 rows × 2 classes/);
  });
});

const python = resolve(import.meta.dirname, '../../../.venv/bin/python');
const hasSklearn =
  existsSync(python) &&
  (await execa(python, ['-c', 'import sklearn'], { reject: false }).then((r) => r.exitCode === 0));

const SKLEARN_SCRIPT = `
import json, sys
import numpy as np
from sklearn import metrics as m
cases = json.load(open(sys.argv[1]))
out = []
for c in cases:
    y = np.array(c["y"]); p = np.array(c["proba"], dtype=np.float64).reshape(len(y), c["k"])
    pred = p.argmax(axis=1)
    binary = c["k"] == 2
    avg = "binary" if binary else "macro"
    r = {
        "accuracy": m.accuracy_score(y, pred),
        "precision": m.precision_score(y, pred, average=avg, zero_division=0),
        "recall": m.recall_score(y, pred, average=avg, zero_division=0),
        "f1": m.f1_score(y, pred, average=avg, zero_division=0),
        "logLoss": m.log_loss(y, p, labels=list(range(c["k"]))),
        "cm": m.confusion_matrix(y, pred, labels=list(range(c["k"]))).tolist(),
    }
    if binary:
        r["rocAuc"] = m.roc_auc_score(y, p[:, 1])
        fpr, tpr, thr = m.roc_curve(y, p[:, 1], drop_intermediate=False)
        r["roc"] = {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": [None if np.isinf(t) else float(t) for t in thr]}
    else:
        r["rocAuc"] = m.roc_auc_score(y, p, multi_class="ovr", average="macro")
    out.append(r)
print(json.dumps(out))
`;

function randomCase(rows: number, k: number, seed: number): { y: number[]; proba: number[]; k: number } {
  const random = mulberry32(seed);
  const y: number[] = [];
  const proba: number[] = [];
  for (let i = 0; i < rows; i++) {
    const label = Math.floor(random() * k);
    y.push(label);
    // informative but noisy scores, rounded so that ties occur
    const raw = Array.from({ length: k }, (_, c) => Math.round((random() + (c === label ? 0.35 : 0)) * 20) / 20 + 0.01);
    const sum = raw.reduce((a, b) => a + b, 0);
    proba.push(...raw.map((v) => v / sum));
  }
  return { y, proba, k };
}

describe.skipIf(!hasSklearn)('metrics agree with scikit-learn', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'model-train-sklearn-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('binary and 3-class random cases (with ties)', async () => {
    const cases = [randomCase(300, 2, 11), randomCase(250, 3, 12), randomCase(40, 2, 13)];
    const file = join(dir, 'cases.json');
    await writeFile(file, JSON.stringify(cases));
    const { stdout } = await execa(python, ['-c', SKLEARN_SCRIPT, file]);
    const expected = JSON.parse(stdout) as {
      accuracy: number;
      precision: number;
      recall: number;
      f1: number;
      logLoss: number;
      rocAuc: number;
      cm: number[][];
      roc?: { fpr: number[]; tpr: number[]; thresholds: (number | null)[] };
    }[];
    cases.forEach((c, i) => {
      const want = expected[i]!;
      const classes = Array.from({ length: c.k }, (_, j) => `c${j}`);
      const got = evaluatePredictions(c.y, c.proba, classes, { maxRocPoints: 10_000 });
      expect(got.confusionMatrix.matrix).toEqual(want.cm);
      expect(got.accuracy).toBeCloseTo(want.accuracy, 10);
      expect(got.precision).toBeCloseTo(want.precision, 10);
      expect(got.recall).toBeCloseTo(want.recall, 10);
      expect(got.f1).toBeCloseTo(want.f1, 10);
      expect(got.rocAuc).toBeCloseTo(want.rocAuc, 10);
      expect(got.logLoss).toBeCloseTo(want.logLoss, 8);
      if (want.roc) {
        const curve = got.roc[0]!;
        expect(curve.fpr.length).toBe(want.roc.fpr.length);
        curve.fpr.forEach((v, j) => expect(v).toBeCloseTo(want.roc!.fpr[j]!, 12));
        curve.tpr.forEach((v, j) => expect(v).toBeCloseTo(want.roc!.tpr[j]!, 12));
        curve.thresholds.forEach((t, j) => (t === null ? expect(want.roc!.thresholds[j]).toBeNull() : expect(t).toBeCloseTo(want.roc!.thresholds[j]!, 12)));
      }
    });
  });
});
