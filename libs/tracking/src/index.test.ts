import * as mod from './index.js';
test('module loads', () => { expect(typeof mod).toBe('object'); });
