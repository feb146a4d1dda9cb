/**
 * How a port metric key becomes a ClearML scalar (metric = the plot's title, variant = its series) and back:
 * `train_loss` → loss/train, `valid_loss` → loss/valid, `test_roc_auc` → roc_auc/test,
 * `baseline_test_roc_auc` → roc_auc/baseline_test; a key without a split prefix is its own metric and variant
 * (`best_epoch` → best_epoch/best_epoch). So the learning curves of one metric share a plot, as in ClearML's UI.
 */
export const SPLIT_PREFIXES = ['baseline_test', 'train', 'valid', 'test'] as const;

export function clearmlScalarOf(key: string): { metric: string; variant: string } {
  for (const p of SPLIT_PREFIXES) {
    if (key.startsWith(`${p}_`) && key.length > p.length + 1) return { metric: key.slice(p.length + 1), variant: p };
  }
  return { metric: key, variant: key };
}

/** The inverse of {@link clearmlScalarOf}. */
export function metricKeyOf(metric: string, variant: string): string {
  if ((SPLIT_PREFIXES as readonly string[]).includes(variant)) return `${variant}_${metric}`;
  return variant === metric ? metric : `${metric}/${variant}`;
}
