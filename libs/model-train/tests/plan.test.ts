import { autoBatchSize, classWeights, parseTrainParams, planTraining } from '../src/index.js';

describe('autoBatchSize', () => {
  it('is rows / 128 as a power of two within [16, 512]', () => {
    expect([1, 240, 1_022, 4_000, 10_000, 70_000, 3_000_000].map(autoBatchSize)).toEqual([16, 16, 16, 32, 64, 512, 512]);
  });
});

describe('planTraining', () => {
  it('plans enough epochs for minSteps optimizer steps, within [5, maxEpochs]', () => {
    const auto = parseTrainParams({});
    expect(planTraining(auto, 240)).toEqual({
      rows: 240,
      batchSize: 16,
      epochs: 134, // ceil(2000 / 15 steps per epoch)
      stepsPerEpoch: 15,
      maxSteps: 2010,
      derived: { batchSize: true, epochs: true },
      notes: [],
    });
    expect(planTraining(auto, 70_000)).toMatchObject({ batchSize: 512, stepsPerEpoch: 137, epochs: 15 });
    // big tables: the floor of 5 epochs
    expect(planTraining(auto, 3_000_000)).toMatchObject({ batchSize: 512, epochs: 5 });
    // tiny tables: maxEpochs caps it, and a note says minSteps is out of reach
    const capped = planTraining(parseTrainParams({ maxEpochs: 50 }), 40);
    expect(capped).toMatchObject({ batchSize: 16, stepsPerEpoch: 3, epochs: 50, maxSteps: 150 });
    expect(capped.notes).toEqual(['at most 150 optimizer steps (maxEpochs 50 × 3 steps of 16 rows), fewer than minSteps 2000']);
  });

  it('keeps explicit values and notes when they fit the data badly (the old defaults on penguins)', () => {
    const plan = planTraining(parseTrainParams({ batchSize: 512, epochs: 8 }), 240);
    expect(plan).toMatchObject({ batchSize: 512, epochs: 8, stepsPerEpoch: 1, maxSteps: 8, derived: { batchSize: false, epochs: false } });
    expect(plan.notes).toEqual([
      'batchSize 512 is not below the 240 training rows: one optimizer step per epoch (batchSize: auto would use 16)',
      'at most 8 optimizer steps (epochs 8 × 1 steps of 512 rows), fewer than minSteps 2000 (epochs: auto plans enough)',
    ]);
  });
});

describe('classWeights', () => {
  const labels = (counts: number[]) => Int32Array.from(counts.flatMap((n, c) => new Array<number>(n).fill(c)));
  const meanRowWeight = (w: Float32Array, counts: number[]) => counts.reduce((s, n, c) => s + n * w[c]!, 0) / counts.reduce((a, b) => a + b, 0);

  it('none gives no weights', () => {
    expect(classWeights(labels([5, 5]), 2, 'none', 3)).toBeNull();
  });

  it('balanced within the ratio cap is scikit-learn\'s n / (K n_c)', () => {
    const counts = [600, 400];
    const w = classWeights(labels(counts), 2, 'balanced', 3)!;
    expect(w[0]).toBeCloseTo(1000 / (2 * 600), 6);
    expect(w[1]).toBeCloseTo(1000 / (2 * 400), 6);
    expect(meanRowWeight(w, counts)).toBeCloseTo(1, 6);
  });

  it('a rare class cannot swamp the data: its rows weigh at most maxRatio × a common row, mean row weight 1', () => {
    // seattle-weather's train split: sun, rain, fog, drizzle, snow
    const counts = [448, 449, 71, 37, 18];
    const uncapped = classWeights(labels(counts), 5, 'balanced', 1e6)!;
    expect(uncapped[4]! / uncapped[1]!).toBeCloseTo(449 / 18, 4); // scikit-learn: a snow row counts 25 rain rows
    const w = classWeights(labels(counts), 5, 'balanced', 3)!;
    expect(Math.max(...w) / Math.min(...w)).toBeCloseTo(3, 5);
    expect(w[2]).toBeCloseTo(w[4]!, 6); // fog (raw 2.9) and snow (raw 11.4) both hit the cap of 3 × sun's/rain's weight
    expect(meanRowWeight(w, counts)).toBeCloseTo(1, 5);
    const sqrt = classWeights(labels(counts), 5, 'sqrt', 1e6)!;
    expect(sqrt[4]! / sqrt[1]!).toBeCloseTo(Math.sqrt(449 / 18), 4);
    expect(meanRowWeight(sqrt, counts)).toBeCloseTo(1, 5);
  });

  it('a class absent from the labels gets weight 0', () => {
    const w = classWeights(labels([10, 0, 30]), 3, 'balanced', 3)!;
    expect(w[1]).toBe(0);
    expect(w[0]! / w[2]!).toBeCloseTo(3, 5);
  });
});
