import { z } from 'zod';

/** zod form of {@link import('../api/tasks.js').ScriptInfo} (what the agent runs). */
export const ScriptInfoSchema = z.object({
  repository: z.string().optional(),
  commit: z.string().optional(),
  branch: z.string().optional(),
  tag: z.string().optional(),
  entryPoint: z.string().optional(),
  workingDir: z.string().optional(),
  diff: z.string().optional(),
  binary: z.string().optional(),
  requirements: z.record(z.string(), z.unknown()).optional(),
});
