// EventsLogger against the real server: what it logs is read back through REST.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ClearmlTransport, confusionFigure, EventsLogger, learningCurveFigure, rocFigure } from '../src/index.js';
import { close32, countPoints, createTask, poll, readLog, readPlots, readScalars, readSingleValues } from './events-support.js';
import { hasServer, testConfig, uniqueProjectName } from './helpers.js';

describe.skipIf(!hasServer)('EventsLogger', () => {
  let transport: ClearmlTransport;
  let dir: string;
  beforeAll(async () => {
    transport = new ClearmlTransport(testConfig());
    dir = await mkdtemp(join(tmpdir(), 'cml-events-'));
  });
  afterAll(async () => {
    await transport?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('scalars, single values, plots, console lines and text arrive and read back', async () => {
    const { taskId } = await createTask(transport, uniqueProjectName('events'), 'events');
    // small batches and a short interval: several requests, some sent by the timer while logging goes on
    const logger = new EventsLogger({ transport, taskId, flushEvery: 7, flushIntervalMs: 50, spillDir: dir });
    const loss = (i: number) => 1 / (i + 1) + 0.1234567;
    const t0 = performance.now();
    for (let i = 0; i < 25; i++) {
      logger.scalar('loss', 'train', i, loss(i));
      logger.scalar('loss', 'val', i, loss(i) * 1.5);
    }
    logger.scalar('accuracy', 'val', 24, 0.875);
    const callMs = performance.now() - t0;
    logger.singleValue('test_auc', 0.9375);
    logger.singleValue('rows', 12345);
    logger.plot('curves', 'learning curve', 24, learningCurveFigure({ series: { train: [0.9, 0.5, 0.4], val: [1.0, 0.7, 0.6] }, yaxis: 'loss' }));
    logger.plot('curves', 'roc', 0, rocFigure({ fpr: [0, 0.1, 1], tpr: [0, 0.8, 1], auc: 0.85 }));
    logger.plot('confusion', 'test', 0, confusionFigure({ matrix: [[50, 3], [7, 40]], labels: ['no', 'yes'] }));
    logger.log(['epoch 1 done', 'epoch 2 done'], 'info');
    logger.log('something odd', 'warning');
    logger.text('a report in the console');
    const report = await logger.close();
    expect(report).toMatchObject({ delivered: true, stats: { logged: 59, delivered: 59, rejected: 0, spilled: 0 } });
    expect(report.pending).toBeUndefined();
    expect(callMs).toBeLessThan(200); // logging calls never wait on the network

    const scalars = await poll(() => readScalars(transport, taskId), (h) => countPoints(h) >= 51);
    expect(Object.keys(scalars).sort()).toEqual(['accuracy', 'loss']);
    expect(scalars['loss']!['train']!.x).toEqual([...Array(25).keys()]);
    scalars['loss']!['train']!.y.forEach((y, i) => expect(close32(y, loss(i)), `train @${i}: ${y}`).toBe(true));
    scalars['loss']!['val']!.y.forEach((y, i) => expect(close32(y, loss(i) * 1.5), `val @${i}: ${y}`).toBe(true));
    expect(scalars['accuracy']!['val']).toEqual({ x: [24], y: [0.875] });

    const singles = await poll(() => readSingleValues(transport, taskId), (v) => Object.keys(v).length >= 2);
    expect(singles).toEqual({ test_auc: 0.9375, rows: 12345 });

    const plots = await poll(() => readPlots(transport, taskId), (p) => p.length >= 3);
    const byName = Object.fromEntries(plots.map((p) => [`${p.metric}/${p.variant}`, p]));
    expect(Object.keys(byName).sort()).toEqual(['confusion/test', 'curves/learning curve', 'curves/roc']);
    expect(byName['curves/learning curve']!.iter).toBe(24);
    expect(byName['curves/learning curve']!.figure.data.map((d) => [d['name'], d['x'], d['y']])).toEqual([
      ['train', [1, 2, 3], [0.9, 0.5, 0.4]],
      ['val', [1, 2, 3], [1.0, 0.7, 0.6]],
    ]);
    expect(byName['curves/roc']!.figure.data[0]).toMatchObject({ type: 'scatter', x: [0, 0.1, 1], y: [0, 0.8, 1], name: 'ROC (AUC 0.8500)' });
    expect(byName['confusion/test']!.figure.data[0]).toMatchObject({ type: 'heatmap', z: [[50, 3], [7, 40]], x: ['no', 'yes'], y: ['no', 'yes'] });

    const lines = await poll(() => readLog(transport, taskId), (l) => l.length >= 3);
    // (same-millisecond lines may come back in either order)
    expect(lines.sort((a, b) => a.msg.localeCompare(b.msg))).toEqual([
      { msg: 'a report in the console', level: 'info' },
      { msg: 'epoch 1 done\nepoch 2 done', level: 'info' },
      { msg: 'something odd', level: 'warning' },
    ]);
  });

  test('an event the server refuses is counted, not retried forever; bad values throw at the call', async () => {
    const logger = new EventsLogger({ transport, taskId: 'no-such-task-0000', spillDir: dir, flushIntervalMs: 60_000 });
    logger.scalar('loss', 'train', 0, 1);
    expect(() => logger.scalar('loss', 'train', 1, Number.NaN)).toThrow(/finite/);
    expect(() => logger.scalar('loss', 'train', 1.5, 1)).toThrow(/integer/);
    const report = await logger.close();
    expect(report.delivered).toBe(true);
    expect(report.stats).toMatchObject({ logged: 1, delivered: 0, rejected: 1 });
  });
});
