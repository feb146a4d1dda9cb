import { STAGE_PARAMS } from '@mlops-ts/pipeline';
import { stage } from '../src/cli.js';

test('the prepare stage validates the sections STAGE_PARAMS lists for it (the list npm run check goes through)', () => {
  expect(stage.params).toEqual(STAGE_PARAMS.prepare);
  expect(Object.keys(stage.params)).toEqual(Object.keys(STAGE_PARAMS.prepare));
  for (const [name, schema] of Object.entries(STAGE_PARAMS.prepare)) expect(stage.params[name as keyof typeof stage.params]).toBe(schema);
});
