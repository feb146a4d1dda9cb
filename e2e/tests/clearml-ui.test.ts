// The ClearML web UI shows what this project logs: a project seeded through the TypeScript client with one task per
// model (project, tasks and hyperparameters through ClearmlClient; learning curves as scalar events, ROC and
// confusion matrix as plot events through EventsLogger and its SDK-shaped Plotly builders), then checked in headless Chromium
// by checkClearmlWebUi: login, the
// experiments table, a task's Scalars, Plots and Configuration tabs. The server is the real one (tools/testing/
// clearml-server.ts); the browser is Debian's chromium (tools/setup.sh installs it; CHROMIUM overrides).
import { ClearmlClient, confusionFigure, EventsLogger, rocFigure } from '@mlops-ts/clearml-client';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';
import {
  repoRoot,
  requireClearml,
  resolveClearmlServer,
  uniqueProjectName,
  type ClearmlServerInfo,
} from '../../tools/testing/clearml-server.js';
import { checkClearmlWebUi, ClearmlWebUiCheckError, findChromium } from '../../tools/testing/clearml-web-ui.js';

// The server from the vitest globalSetup when the config has one, else resolved here the same way (env, else the
// local test server's start.sh): the suite skips loudly without one, and fails under CI=true.
const provided = inject('clearml') as ClearmlServerInfo | undefined;
const resolved = provided ? undefined : await resolveClearmlServer();
const server: ClearmlServerInfo = provided ?? resolved!.info;
const chromiumPath = process.env['CHROMIUM'] || (await findChromium(process.env['PATH']));
const ci = process.env['CI'] === 'true';
if (!server.available) {
  if (ci) throw new Error(`no ClearML server under CI=true: ${server.reason}`);
  console.warn(`[clearml-ui] !!! NO CLEARML SERVER: the web UI test is SKIPPED. ${server.reason.split('\n')[0]}`);
}
if (!existsSync(chromiumPath)) {
  if (ci) throw new Error(`no Chromium at ${chromiumPath} under CI=true (tools/setup.sh installs it; CHROMIUM=<path> overrides)`);
  console.warn(`[clearml-ui] !!! NO CHROMIUM at ${chromiumPath}: the web UI test is SKIPPED (run tools/setup.sh or set CHROMIUM)`);
}
afterAll(() => resolved?.release());

const MODELS = ['logreg', 'mlp_small'] as const;
const EPOCHS = 6;

describe.skipIf(!server.available || !existsSync(chromiumPath))('ClearML web UI (headless Chromium)', () => {
  const s = server.available ? requireClearml(server) : undefined!;
  const project = uniqueProjectName('web-ui');
  const shotsDir = join(repoRoot, 'tmp', 'clearml-ui', project);
  let client: ClearmlClient;
  let projectId: string;

  beforeAll(async () => {
    await rm(shotsDir, { recursive: true, force: true });
    client = new ClearmlClient({ apiHost: s.apiHost, webHost: s.webHost, filesHost: s.filesHost, credentials: { accessKey: s.accessKey, secretKey: s.secretKey } });
    projectId = (await client.projects.getOrCreate({ name: project, description: 'clearml-ui.test.ts' })).id;
    for (const [m, model] of MODELS.entries()) {
      const task = (
        await client.tasks.create({
          name: `train ${model}`,
          type: 'training',
          projectId,
          hyperparams: { train: { model, epochs: EPOCHS, learning_rate: 0.01 * (m + 1) } },
        })
      ).id;
      await client.tasks.started(task);
      const events = new EventsLogger({ transport: client.transport, taskId: task, spillDir: join(shotsDir, 'spill') });
      for (let epoch = 0; epoch < EPOCHS; epoch++) {
        const loss = 0.7 * Math.exp(-(m + 1) * 0.3 * epoch) + 0.2;
        events.scalar('loss', 'train', epoch, loss);
        events.scalar('loss', 'valid', epoch, loss + 0.03);
        events.scalar('accuracy', 'valid', epoch, 1 - loss);
      }
      const fpr = [0, 0.1, 0.25, 0.5, 1];
      const tpr = fpr.map((x) => Math.min(1, Math.sqrt(x) * (1.1 + m * 0.05)));
      events.plot('ROC', 'test', 0, rocFigure({ fpr, tpr, auc: 0.8 + m / 100, name: model }));
      events.plot('confusion matrix', 'test', 0, confusionFigure({ matrix: [[80 - m, 12], [9, 31 + m]], labels: ['on time', 'delayed'] }));
      const closed = await events.close();
      expect(closed.delivered).toBe(true);
      await client.tasks.completed(task, { force: true });
    }
  });

  afterAll(async () => {
    await client?.close();
  });

  test('logs in, lists one task per model, and the task shows its learning curves, ROC, confusion matrix and hyperparameters', async () => {
    const report = await checkClearmlWebUi({
      webHost: s.webHost,
      user: s.webUser ?? 'mlops-ts-test',
      ...(s.webPassword ? { password: s.webPassword } : {}),
      project,
      expectTasks: MODELS.map((m) => `train ${m}`),
      taskToInspect: 'train mlp_small',
      expectScalars: { loss: ['train', 'valid'], accuracy: ['valid'] },
      expectHyperParams: { train: ['model', 'epochs', 'learning_rate'] },
      shotsDir,
      chromiumPath,
      log: (line) => console.log(line),
    });
    expect(report.projectId).toBe(projectId);
    expect(report.tasks).toEqual(['train logreg', 'train mlp_small']);
    const loss = report.scalars.find((c) => c.title === 'loss');
    expect(loss?.series).toEqual(expect.arrayContaining(['train', 'valid']));
    expect(loss?.points).toEqual([EPOCHS, EPOCHS]);
    const roc = report.plots.find((c) => /roc/i.test(c.title));
    expect(roc?.series).toEqual(['mlp_small (AUC 0.8100)', 'chance']);
    expect(report.plots.find((c) => c.types.includes('heatmap'))?.title).toMatch(/confusion matrix/);
    expect(report.hyperParams['train']).toEqual({ model: 'mlp_small', epochs: String(EPOCHS), learning_rate: '0.02' });
    expect(report.screenshots.map((f) => f.slice(shotsDir.length + 1))).toEqual([
      '01-login.png',
      '02-tasks-table.png',
      '03-task-scalars.png',
      '04-task-plots.png',
      '05-task-configuration-train.png',
    ]);
    for (const f of report.screenshots) expect(existsSync(f)).toBe(true);
    console.log(`[clearml-ui] ${report.timings['total']} ms, screenshots in ${shotsDir}`);
  });

  test('fails, with a screenshot, when the table does not list exactly the expected tasks', async () => {
    const err = await checkClearmlWebUi({
      webHost: s.webHost,
      user: s.webUser ?? 'mlops-ts-test',
      ...(s.webPassword ? { password: s.webPassword } : {}),
      project,
      projectId,
      expectTasks: ['train logreg', 'train mlp_small', 'train mlp_wide'],
      shotsDir: join(shotsDir, 'negative'),
      chromiumPath,
      timeoutMs: 4000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClearmlWebUiCheckError);
    const e = err as ClearmlWebUiCheckError;
    expect(e.step).toBe('tasks-table');
    expect(e.message).toContain('lists [train logreg, train mlp_small], expected exactly [train logreg, train mlp_small, train mlp_wide]');
    expect(e.screenshot && existsSync(e.screenshot)).toBe(true);
  });
});
