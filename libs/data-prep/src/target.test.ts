import pl from 'nodejs-polars';
import { DataContentError } from './errors.js';
import { checkClasses, classCounts, describeCondition, labelExpr, resolveClasses } from './target.js';

describe('target', () => {
  it('binarizes a numeric target with positive_when and default class names', () => {
    const target = { column: 'delay', positive_when: { gt: 15 } };
    const df = pl.DataFrame({ delay: [0, 15, 16, 200] });
    const classes = resolveClasses(df, target);
    expect(classes).toEqual(['not (delay > 15)', 'delay > 15']);
    expect(df.select(labelExpr(target, classes)).getColumn('label').toArray()).toEqual([0, 0, 1, 1]);
    expect(classCounts(df, target, classes)).toEqual([2, 2]);
    expect(describeCondition('x', { gte: 0, lt: 5 })).toBe('x >= 0 and x < 5');
  });

  it('uses the sorted distinct values of a categorical target as classes', () => {
    const target = { column: 's' };
    const df = pl.DataFrame({ s: ['Gentoo', 'Adelie', null, 'Chinstrap', 'Adelie'] });
    const classes = resolveClasses(df, target);
    expect(classes).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
    expect(df.select(labelExpr(target, classes)).getColumn('label').toArray()).toEqual([2, 0, null, 1, 0]);
  });

  it('keeps the declared class order', () => {
    const target = { column: 's', classes: ['b', 'a'] };
    const df = pl.DataFrame({ s: ['a', 'b', 'c'] });
    expect(df.select(labelExpr(target, resolveClasses(df, target))).getColumn('label').toArray()).toEqual([1, 0, -1]);
  });

  it('checks the classes against the task', () => {
    expect(() => checkClasses('binary', 's', ['a', 'b', 'c'], [1, 1, 1])).toThrow(/task "binary" needs 2 classes, target "s" has 3/);
    expect(() => checkClasses('multiclass', 's', ['a', 'b'], [3, 0])).toThrow(DataContentError);
    expect(() => checkClasses('multiclass', 's', ['a', 'b'], [3, 0])).toThrow(/class "b" of target "s" has no rows/);
    expect(() => checkClasses('multiclass', 's', ['a', 'b', 'c'], [1, 2, 3])).not.toThrow();
  });
});
