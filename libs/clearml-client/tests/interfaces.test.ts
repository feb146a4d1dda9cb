import { describe, expectTypeOf, test } from 'vitest';
import type { ZodType } from 'zod';
import type { ClearmlClient } from '../src/index.js';

// What the other parts of the repository code against (common brief: events' importer, tracking's sink):
// ClearmlClient must stay assignable to it.
interface AgreedClient {
  transport: { call(endpoint: string, body: unknown, schema: ZodType): Promise<unknown> };
  files: { upload(localPath: string, remoteKey: string): Promise<string> };
  webUrl?(taskId: string, projectId?: string): string | undefined;
}

describe('agreed interfaces', () => {
  test('ClearmlClient is assignable to what the importer and the tracking sink take', () => {
    expectTypeOf<ClearmlClient>().toExtend<AgreedClient>();
  });
});
